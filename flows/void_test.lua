-- void_test.lua: scenarios of void.lua, run by `posrt flow test` in order
-- on one fresh terminal: a void names its sale of the same batch (op.orig,
-- an earlier scenario of this file) and gives back its full amount.

return {
  {
    name = "card sale to void",
    op = { kind = "sale", amount = 2000 },
    expect = { result = "approved", receipts_printed = 2 },
  },
  {
    name = "void of the card sale",
    op = { kind = "void", orig = "card sale to void" },
    expect = { result = "approved", kind = "void", channel = "card", amount = 2000, receipts_printed = 1 },
    contains = { printed = { "TRANS TYPE  VOID", "AMOUNT  RMB -20.00" } },
  },
  {
    name = "a second void of the same sale is refused",
    op = { kind = "void", orig = "card sale to void" },
    expect_error = "already_voided",
  },
  {
    name = "WeChat Pay sale to void",
    op = { kind = "sale", amount = 1500, auth_code = "104567890123456789" },
    expect = { result = "approved", channel = "wechat" },
  },
  {
    name = "void of the WeChat Pay sale cancels it",
    op = { kind = "void", orig = "WeChat Pay sale to void" },
    expect = { result = "approved", kind = "void", channel = "wechat", amount = 1500, receipts_printed = 1 },
    contains = { printed = "PAID WITH   微信支付 WECHAT PAY" },
  },
  {
    name = "void of a trace the batch does not hold",
    op = { kind = "void", orig_trace = "999999" },
    expect_error = "original_not_found",
  },
}

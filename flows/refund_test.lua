-- refund_test.lua: scenarios of refund.lua, run by `posrt flow test` in
-- order on one fresh terminal: partial refunds of one sale up to what
-- remains of it, and no further.

return {
  {
    name = "card sale to refund",
    op = { kind = "sale", amount = 5000 },
    expect = { result = "approved" },
  },
  {
    name = "partial refund",
    op = { kind = "refund", orig = "card sale to refund", amount = 2000 },
    expect = { result = "approved", kind = "refund", amount = 2000, receipts_printed = 1 },
    contains = { printed = { "TRANS TYPE  REFUND", "AMOUNT  RMB -20.00" } },
  },
  {
    name = "refund of the remainder",
    op = { kind = "refund", orig = "card sale to refund", amount = 3000 },
    expect = { result = "approved", amount = 3000 },
  },
  {
    name = "one fen more is refused",
    op = { kind = "refund", orig = "card sale to refund", amount = 1 },
    expect_error = "refund_exceeds_remaining",
  },
  {
    name = "Alipay sale to refund",
    op = { kind = "sale", amount = 1200, auth_code = "256543210987654321" },
    expect = { result = "approved", channel = "alipay" },
  },
  {
    name = "more than the Alipay sale is refused",
    op = { kind = "refund", orig = "Alipay sale to refund", amount = 1201 },
    expect_error = "refund_exceeds_remaining",
  },
  {
    name = "refund of the whole Alipay sale",
    op = { kind = "refund", orig = "Alipay sale to refund", amount = 1200 },
    expect = { result = "approved", channel = "alipay", amount = 1200 },
  },
}

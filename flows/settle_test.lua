-- settle_test.lua: scenarios of settle.lua (结算), run by `posrt flow test`
-- in order on one fresh terminal: the batch's totals go to the acquirer
-- and each wallet, the batch closes and the slip prints; a sale of the
-- settled batch can no longer be voided (a refund gives its money back).

return {
  {
    name = "card sale of the first batch",
    op = { kind = "sale", amount = 3000 },
    expect = { result = "approved", batch = "000001" },
  },
  {
    name = "WeChat Pay sale of the first batch",
    op = { kind = "sale", amount = 880, auth_code = "134567890123456789" },
    expect = { result = "approved", channel = "wechat", batch = "000001" },
  },
  {
    name = "settlement closes the batch and prints the slip",
    op = { kind = "settle" },
    expect = { result = "settled", batch = "000001", next_batch = "000002", balanced = true, slip_printed = true },
    contains = { printed = { "SETTLEMENT", "BATCH 000001" } },
  },
  {
    name = "a void after the settlement is refused",
    op = { kind = "void", orig = "card sale of the first batch" },
    expect_error = "void_not_same_batch",
  },
  {
    name = "a refund of the settled sale gives money back in the new batch",
    op = { kind = "refund", orig = "card sale of the first batch", amount = 1000 },
    expect = { result = "approved", batch = "000002", amount = 1000 },
  },
  {
    name = "the next sale is in the new batch",
    op = { kind = "sale", amount = 100 },
    expect = { result = "approved", batch = "000002" },
  },
}

-- sale_host_down_test.lua: the acquirer does not answer a sale of RMB 7.77
-- (its request reaches the host, the answer is lost): posrt reverses it
-- before anything else goes online, the cashier is told nothing was
-- charged, and nothing prints; the next sale is approved.

return {
  plugins = { acquirer = { lose_response = "777" } },
  {
    name = "a sale without an answer is reversed, not charged",
    op = { kind = "sale", amount = 777 },
    expect = { result = "reversed", code = "reversed", state = "reversed", receipts_printed = 0 },
    contains = { message = "not charged" },
  },
  {
    name = "the next sale goes through",
    op = { kind = "sale", amount = 500 },
    expect = { result = "approved", code = "00", receipts_printed = 2 },
  },
}

-- cash_test.lua: scenarios of cash.lua, run by `posrt flow test`: a cash
-- entry is journaled and totalled with the batch; nothing is sent, nothing
-- prints.

return {
  {
    name = "cash entry",
    op = { kind = "cash", amount = 4500 },
    expect = { result = "approved", kind = "cash", medium = "cash", amount = 4500, receipts_printed = 0 },
  },
}

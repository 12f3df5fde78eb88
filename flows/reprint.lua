-- reprint.lua: a receipt printed again (重打印), marked DUPLICATE: the
-- runtime bound this run to the transaction asked for (the last one, or
-- one by its trace) and counts the reprint in the journal. Nothing is sent
-- to a host.

local txn = require("posrt.txn")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")
local receipts = require("receipts")

return function(ctx)
  local res = txn.record()
  local lines, copies = receipts.document(terminal.info(), res, true)
  if copies == 0 then
    return nil, { code = "nothing_to_reprint", message = "a " .. res.kind .. " has no receipt" }
  end
  if res.result ~= "approved" then
    return nil, { code = "nothing_to_reprint", message = "transaction " .. res.trace .. " is " .. res.result .. ": only approved ones have a receipt" }
  end
  local ok, perr = printer.print({ copy = "receipt", lines = lines, cut = true })
  if not ok then
    return nil, perr
  end
  res.receipts_printed = copies
  return res
end

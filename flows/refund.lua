-- refund.lua: a refund (退货), full or partial, of an earlier sale; never
-- more than what remains refundable (the runtime checked and holds it).
-- A retry carries the same refund number, so it refunds once.

local txn = require("posrt.txn")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")
local receipts = require("receipts")

return function(ctx)
  local res, err = txn.execute({})
  if not res then
    return nil, err
  end
  res.receipts_printed = 0
  if res.result == "approved" then
    local lines, copies = receipts.document(terminal.info(), res, false)
    local ok, perr = printer.print({ copy = "receipt", lines = lines, cut = true })
    if ok then
      res.receipts_printed = copies
    else
      res.print_error = perr.message
    end
  end
  return res
end

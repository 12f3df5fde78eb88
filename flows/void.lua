-- void.lua: a void (撤销) of a sale of the current batch, for its full
-- amount. The runtime checked the original (approved, same batch, neither
-- voided nor refunded) when the operation was created; a card void is
-- sent with the original's reference, a wallet sale is cancelled.

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

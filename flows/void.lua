-- void.lua: a void (撤销) of a sale of the current batch, for its full
-- amount. The runtime checked the original (approved, same batch, neither
-- voided nor refunded) when the operation was created; a card void is
-- sent with the original's reference, a wallet sale is cancelled.

local txn = require("posrt.txn")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")
local money = require("posrt.money")

return function(ctx)
  local res, err = txn.execute({})
  if not res then
    return nil, err
  end
  res.receipts_printed = 0
  if res.result == "approved" then
    local t = terminal.info()
    local ok, perr = printer.print({
      copy = "receipt",
      cut = true,
      lines = {
        { text = t.merchant_name, align = "center", size = "double", bold = true },
        { text = "TRANS TYPE  VOID", bold = true },
        { text = "TERMINAL NO " .. res.tid },
        { text = "CARD NO     " .. res.masked_pan },
        { text = "ORIG TRACE  " .. res.orig_trace },
        { text = "BATCH " .. res.batch .. "  TRACE " .. res.trace },
        { text = "DATE/TIME   " .. res.time },
        { text = "AMOUNT  RMB -" .. money.yuan(res.amount), size = "double_height", bold = true },
      },
    })
    if ok then
      res.receipts_printed = 1
    else
      res.print_error = perr.message
    end
  end
  return res
end

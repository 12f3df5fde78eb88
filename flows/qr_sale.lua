-- qr_sale.lua: a payment-code sale (付款码).
-- The customer shows the payment code of WeChat Pay, Alipay or UnionPay QR;
-- the runtime tells the wallet from the code itself. ctx.amount (fen) is
-- the operation's. While the customer confirms in their wallet the runtime
-- keeps asking; a payment whose outcome stays unknown is cancelled, never
-- paid twice. One slip prints for the customer.

local scanner = require("posrt.scanner")
local txn = require("posrt.txn")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")
local receipts = require("receipts")

return function(ctx)
  local code, err = scanner.read_code()
  if not code then
    return nil, err
  end

  local res
  res, err = txn.execute({ code = code })
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

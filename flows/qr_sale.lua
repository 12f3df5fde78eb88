-- qr_sale.lua: a payment-code sale (付款码) the cash register sent with the
-- customer's code (auth_code), or one the cashier started as a code sale.
-- The customer shows the payment code of WeChat Pay, Alipay or UnionPay QR;
-- the runtime tells the wallet from the code itself. ctx.amount (fen) is
-- the operation's. While the customer confirms in their wallet the runtime
-- keeps asking; a payment whose outcome stays unknown is cancelled, never
-- paid twice. One slip prints for the customer.

local scanner = require("posrt.scanner")
local txn = require("posrt.txn")
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
  receipts.print_approved(res)
  return res
end

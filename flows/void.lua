-- void.lua: a void (撤销) of a sale of the current batch, for its full
-- amount. The runtime checked the original (approved, same batch, neither
-- voided nor refunded) when the operation was created; a card void is
-- sent with the original's reference, a wallet sale is cancelled.

local txn = require("posrt.txn")
local receipts = require("receipts")

return function(ctx)
  local res, err = txn.execute({})
  if not res then
    return nil, err
  end
  receipts.print_approved(res)
  return res
end

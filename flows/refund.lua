-- refund.lua: a refund (退货), full or partial, of an earlier sale; never
-- more than what remains refundable (the runtime checked and holds it).
-- A retry carries the same refund number, so it refunds once.

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

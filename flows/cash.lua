-- cash.lua: a cash entry (现金录入): journaled and totalled with the
-- batch, nothing is sent to a host. ctx.amount (fen) is the operation's.

local txn = require("posrt.txn")

return function(ctx)
  local res, err = txn.execute({})
  if not res then
    return nil, err
  end
  res.receipts_printed = 0
  return res
end

-- signin.lua: sign-in (签到) with the acquirer. txn.execute() signs in:
-- the acquirer answers the batch number and fresh working keys, which the
-- runtime checks against their check values and loads into the PIN pad
-- (they never pass through the flow). Until a sign-in succeeds the
-- terminal refuses card sales.

local txn = require("posrt.txn")
local ui = require("posrt.ui")

return function(ctx)
  ui.show({ title = "SIGNING IN 签到中" })
  local res, err = txn.execute({})
  if not res then
    ui.show({ title = "SIGN-IN FAILED 签到失败", lines = { err.message }, level = "error" })
    return nil, err
  end
  ui.show({ title = "SIGNED IN 签到成功", lines = { "BATCH " .. res.batch } })
  return res
end

-- protection_unlock.lua: lifts protection mode (解除保护状态). A tamper
-- switch or a shock put the terminal into protection: it refuses every
-- transaction and its PIN pad's working keys were erased.
-- terminal.unlock_protection() asks the front end for the supervisor's
-- password and checks it in posrt (never in the flow); the terminal then
-- signs in afresh, for new keys, before its next card operation.

local terminal = require("posrt.terminal")
local ui = require("posrt.ui")

return function(ctx)
  local before = terminal.info()
  if before.protected == "" then
    return nil, { code = "not_protected", message = "the terminal is not in protection mode" }
  end
  local t, err = terminal.unlock_protection()
  if not t then
    ui.show({ title = "NOT UNLOCKED 解锁失败", lines = { err.message }, level = "error" })
    return nil, err
  end
  ui.show({ title = "PROTECTION LIFTED 已解除保护", lines = { "WAS: " .. before.protected, "SIGN IN BEFORE THE NEXT CARD 请重新签到" } })
  return { unlocked = true, was = before.protected }
end

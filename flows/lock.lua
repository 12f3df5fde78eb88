-- lock.lua: the cashier locks the terminal (锁定终端) on leaving it: every
-- operation is refused until an operator logs in again (login.lua).

local terminal = require("posrt.terminal")
local ui = require("posrt.ui")

return function(ctx)
  local ok, err = terminal.lock()
  if not ok then
    return nil, err
  end
  ui.show({ title = "TERMINAL LOCKED 终端已锁定", lines = { "LOG IN TO UNLOCK 请登录解锁" } })
  return { locked = true }
end

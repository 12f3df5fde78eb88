-- login.lua: an operator logs in (操作员签到). terminal.login() asks the
-- front end for the operator's number and password (the console reads
-- them, the cash register sends them) and checks them in posrt: the flow
-- never sees the password. Five wrong passwords in a row lock the
-- operator out for a while; a locked terminal is unlocked by a login.

local terminal = require("posrt.terminal")
local ui = require("posrt.ui")

return function(ctx)
  local op, err = terminal.login()
  if not op then
    ui.show({ title = "LOGIN REFUSED 登录失败", lines = { err.message }, level = "error" })
    return nil, err
  end
  local lines = { "OPERATOR " .. op.number .. " (" .. op.role .. ")" }
  if op.factory_password then
    table.insert(lines, "FACTORY PASSWORD: CHANGE IT 请修改初始密码")
  end
  ui.show({ title = "LOGGED IN 登录成功", lines = lines, level = op.factory_password and "warning" or "info" })
  return op
end

-- access_test.lua: scenarios of the access flows (login.lua, lock.lua,
-- protection_unlock.lua, clear_cache.lua) and signin.lua, run by `posrt
-- flow test` in order on one fresh terminal. Passwords go to posrt's
-- check, never to a flow: cashier 01 / 0000 and the supervisor 00 /
-- 123456 are the factory passwords.

return {
  {
    name = "the cashier logs in, warned of the factory password",
    op = { kind = "login", operator = "01", password = "0000" },
    expect = { result = "ok", number = "01", role = "cashier", factory_password = true },
    contains = { shown = { "LOGGED IN", "FACTORY PASSWORD" } },
  },
  {
    name = "a wrong password is refused",
    op = { kind = "login", operator = "01", password = "1111" },
    expect_error = "wrong_password",
  },
  {
    name = "the terminal locks",
    op = { kind = "lock" },
    expect = { result = "ok", locked = true },
  },
  {
    name = "a sale on the locked terminal is refused",
    op = { kind = "sale", amount = 1000 },
    expect_error = "terminal_locked",
  },
  {
    name = "the cashier logs in again and sells",
    op = { kind = "login", operator = "01", password = "0000" },
    expect = { result = "ok", number = "01" },
  },
  {
    name = "a sale after the login",
    op = { kind = "sale", amount = 1000 },
    expect = { result = "approved" },
  },
  {
    name = "the tamper switch opens: protection mode",
    op = { kind = "protect", reason = "tamper switch opened" },
    expect = { result = "protected" },
  },
  {
    name = "no sale in protection mode",
    op = { kind = "sale", amount = 1000 },
    expect_error = "protection_mode",
  },
  {
    name = "no sign-in in protection mode",
    op = { kind = "signin" },
    expect_error = "protection_mode",
  },
  {
    name = "a wrong supervisor password keeps the protection",
    op = { kind = "unprotect", supervisor_password = "000000" },
    expect_error = "wrong_password",
  },
  {
    name = "the supervisor lifts the protection",
    op = { kind = "unprotect", supervisor_password = "123456" },
    expect = { result = "ok", unlocked = true, was = "tamper switch opened" },
    contains = { shown = "PROTECTION LIFTED" },
  },
  {
    name = "a fresh sign-in",
    op = { kind = "signin" },
    expect = { result = "approved", batch = "000001" },
  },
  {
    name = "sales go on",
    op = { kind = "sale", amount = 1200 },
    expect = { result = "approved" },
  },
  {
    name = "the cache of an unsettled batch is not cleared unless confirmed",
    op = { kind = "clear", supervisor_password = "123456" },
    ui = { clear_anyway = false },
    expect_error = "not_clearable",
  },
  {
    name = "the supervisor confirms: exported, then cleared",
    op = { kind = "clear", supervisor_password = "123456" },
    ui = { clear_anyway = true },
    expect = { result = "ok", batch = "000001" },
    contains = { export = "journal", shown = "CACHE CLEARED" },
  },
}

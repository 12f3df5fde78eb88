-- query.lua: the transactions (查询), newest first: the last ones, or
-- those ctx names (trace, batch, rrn, date, limit), each shown on the
-- cashier's screen. Nothing is sent or changed.

local journal = require("posrt.journal")
local ui = require("posrt.ui")
local money = require("posrt.money")

local names = { card = "CARD", wechat = "WECHAT", alipay = "ALIPAY", unionpay_qr = "UNIONPAY QR", cash = "CASH" }

return function(ctx)
  local q = { trace = ctx.trace, batch = ctx.batch, rrn = ctx.rrn, date = ctx.date }
  if ctx.limit and ctx.limit > 0 then
    q.limit = ctx.limit
  end
  local list, err = journal.find(q)
  if not list then
    return nil, err
  end
  if #list == 0 then
    ui.show({ title = "NO TRANSACTIONS 无交易" })
    return { count = 0 }
  end
  for _, t in ipairs(list) do
    local who = t.masked_pan
    if t.medium ~= "card" then
      who = names[t.medium] or t.medium
    end
    ui.show({
      title = string.format("%s %s/%s  %s", string.upper(t.kind), t.batch, t.trace, t.result),
      lines = { string.format("RMB %s  %s  %s", money.yuan(t.amount), who, t.time), t.message },
    })
  end
  return { count = #list }
end

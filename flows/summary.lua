-- summary.lua: the totals of a day, an ISO week or a month (汇总) per
-- medium: ctx.period (day, week, month), ctx.date (2006-01-02; today when
-- empty); shown on the cashier's screen, and printed when ctx.print.

local journal = require("posrt.journal")
local ui = require("posrt.ui")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")
local money = require("posrt.money")

local names = {
  card = "BANK CARD 银行卡", wechat = "WECHAT PAY 微信支付", alipay = "ALIPAY 支付宝",
  unionpay_qr = "UNIONPAY QR 银联二维码", cash = "CASH 现金",
}

return function(ctx)
  local period = ctx.period
  if period == nil or period == "" then
    period = "day"
  end
  local s, err = journal.summary({ period = period, date = ctx.date })
  if not s then
    return nil, err
  end
  local title = string.format("SUMMARY 汇总 %s %s..%s", string.upper(s.period), s.from, s.to)
  local lines = {}
  for _, t in ipairs(s.totals) do
    table.insert(lines, string.format("%s: %d sales RMB %s, %d voids RMB %s, %d refunds RMB %s, net RMB %s",
      names[t.medium] or t.medium, t.sale_count, money.yuan(t.sale_amount), t.void_count, money.yuan(t.void_amount),
      t.refund_count, money.yuan(t.refund_amount), money.yuan(t.net)))
  end
  if #lines == 0 then
    lines = { "NO TRANSACTIONS 无交易" }
  end
  ui.show({ title = title, lines = lines })
  local out = { records = s.records, period = s.period, from = s.from, to = s.to, printed = false }
  if ctx.print then
    local info = terminal.info()
    local doc = {
      { text = info.merchant_name, align = "center", size = "double", bold = true },
      { text = title, align = "center", bold = true },
      { text = "TERMINAL NO " .. info.tid },
    }
    for _, l in ipairs(lines) do
      table.insert(doc, { text = l })
    end
    local ok, perr = printer.print({ copy = "summary", lines = doc, cut = true })
    out.printed = ok == true
    if not ok then
      out.print_error = perr.message
    end
  end
  return out
end

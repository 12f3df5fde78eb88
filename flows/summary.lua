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
  local title = "SUMMARY 汇总 " .. string.upper(s.period)
  -- 32 columns a line, as the receipt printer prints them.
  local lines = { s.from .. " .. " .. s.to }
  local net = 0
  for _, t in ipairs(s.totals) do
    for _, l in ipairs({
      names[t.medium] or t.medium,
      string.format("  SALES   %4d  RMB %11s", t.sale_count, money.yuan(t.sale_amount)),
      string.format("  VOIDS   %4d  RMB %11s", t.void_count, money.yuan(t.void_amount)),
      string.format("  REFUNDS %4d  RMB %11s", t.refund_count, money.yuan(t.refund_amount)),
      string.format("  NET           RMB %11s", money.yuan(t.net)),
    }) do
      table.insert(lines, l)
    end
    net = net + t.net
  end
  if #s.totals == 0 then
    table.insert(lines, "NO TRANSACTIONS 无交易")
  else
    table.insert(lines, string.format("TOTAL NET 净额  RMB %11s", money.yuan(net)))
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

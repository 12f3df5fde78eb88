-- settle.lua: settlement (结算), and the reprint of the last slip.
-- txn.execute() settles the current batch: the runtime resolves what is
-- pending, sends the totals to the acquirer (and, when unbalanced, the
-- batch upload), has each wallet reconcile its orders, and closes the
-- batch; the flow prints the slip from what it returns. With ctx.reprint
-- the last settlement's slip prints again, marked DUPLICATE. The batch is
-- closed whether or not the slip prints: the cashier reprints it.

local txn = require("posrt.txn")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")
local money = require("posrt.money")

local names = {
  card = "BANK CARD 银行卡", wechat = "WECHAT PAY 微信支付", alipay = "ALIPAY 支付宝",
  unionpay_qr = "UNIONPAY QR 银联二维码", cash = "CASH 现金",
}

local function amount(label, count, fen)
  return { text = string.format("%-7s %4d  %12s", label, count, money.yuan(fen)) }
end

-- slip returns the settlement slip's lines: per medium the counts and
-- amounts of sales, voids and refunds and the net, with the batch, the
-- time, whether the acquirer balanced and each wallet's reconciliation.
local function slip(t, s, duplicate)
  local lines = {
    { text = t.merchant_name, align = "center", size = "double", bold = true },
    { text = "SETTLEMENT 结算单", align = "center", bold = true },
  }
  if duplicate then
    table.insert(lines, { text = "DUPLICATE 重打印", align = "center", bold = true })
  end
  local balance = "BALANCED 对账平"
  if not s.balanced then
    balance = "UNBALANCED 对账不平 (" .. s.uploaded .. " uploaded)"
  end
  for _, l in ipairs({
    { text = "MERCHANT NO " .. t.mid },
    { text = "TERMINAL NO " .. t.tid },
    { text = "BATCH " .. s.batch .. "  NEXT " .. s.next_batch },
    { text = "DATE/TIME   " .. s.closed_at },
    { text = balance, bold = true },
  }) do
    table.insert(lines, l)
  end
  for _, tot in ipairs(s.totals) do
    table.insert(lines, { text = "-- " .. (names[tot.medium] or tot.medium), bold = true })
    table.insert(lines, amount("SALE", tot.sale_count, tot.sale_amount))
    table.insert(lines, amount("VOID", tot.void_count, tot.void_amount))
    table.insert(lines, amount("REFUND", tot.refund_count, tot.refund_amount))
    table.insert(lines, { text = string.format("NET           %12s", money.yuan(tot.net)), bold = true })
    for _, w in ipairs(s.wallets) do
      if w.medium == tot.medium then
        if not w.checked then
          table.insert(lines, { text = "NOT RECONCILED 未对账", bold = true })
          table.insert(lines, { text = w.reason })
        elseif w.balanced then
          table.insert(lines, { text = "WALLET BALANCED 对账平", bold = true })
        else
          table.insert(lines, { text = "WALLET UNBALANCED 对账不平 (" .. #w.differences .. ")", bold = true })
          for _, d in ipairs(w.differences) do
            local no = d.order_no
            if d.refund_no ~= "" then
              no = d.refund_no
            end
            table.insert(lines, { text = d.kind .. " " .. no })
            table.insert(lines, { text = "  POS " .. money.yuan(d.terminal) .. "  WALLET " .. money.yuan(d.wallet) })
          end
        end
      end
    end
  end
  return lines
end

return function(ctx)
  local res, err
  if ctx.reprint then
    res, err = txn.record()
  else
    res, err = txn.execute({})
  end
  if not res then
    return nil, err
  end
  res.receipts_printed = 0
  local ok, perr = printer.print({ copy = "slip", lines = slip(terminal.info(), res.settlement, ctx.reprint), cut = true })
  if ok then
    res.receipts_printed = 1
  else
    res.print_error = perr.message
  end
  return res
end

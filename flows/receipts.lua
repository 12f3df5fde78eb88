-- receipts.lua: the receipts every flow prints, in one place a merchant
-- can edit (a receipts.lua in the flows directory replaces this one).
-- receipts.document(t, res, duplicate) returns the print job of the
-- transaction res (the view txn.execute or txn.record returns) for the
-- terminal t (terminal.info()): its lines, with a cut between copies, and
-- how many copies it holds. A reprint (duplicate) is marked DUPLICATE.

local money = require("posrt.money")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")

local M = {}

local wallets = { wechat = "WECHAT PAY", alipay = "ALIPAY", unionpay_qr = "UNIONPAY QR" }

-- The footer: the lines at the foot of every receipt (each copy), centred.
local footer = { "THANK YOU 谢谢惠顾" }

local function foot(lines)
  table.insert(lines, { text = " " })
  for _, text in ipairs(footer) do
    table.insert(lines, { text = text, align = "center" })
  end
end

-- titles: each receipt's name in Chinese, under the merchant's.
local titles = { card = "POS 签购单", wallet = "扫码支付凭证", void = "撤销凭证", refund = "退货凭证" }

-- order_qr is the QR code of the transaction's order number (a wallet's
-- order number; for a card, the same form from its terminal, batch and
-- trace), which the merchant scans to find it again.
local function order_qr(lines, res)
  local order = res.order_no
  if order == nil or order == "" then
    order = "P" .. res.tid .. res.batch .. res.trace
  end
  table.insert(lines, { qr = order, align = "center" })
end

local function head(t, lines, copy, duplicate, title)
  table.insert(lines, { text = t.merchant_name, align = "center", size = "double", bold = true })
  if title then
    table.insert(lines, { text = title, align = "center", bold = true })
  end
  if copy then
    table.insert(lines, { text = copy, align = "center" })
  end
  if duplicate then
    table.insert(lines, { text = "DUPLICATE 重打印", align = "center", bold = true })
  end
end

local function card_sale(t, res, copy, duplicate)
  local lines = {}
  head(t, lines, copy, duplicate, titles.card)
  for _, l in ipairs({
    { text = "MERCHANT NO " .. res.mid },
    { text = "TERMINAL NO " .. res.tid },
    { text = "CARD NO     " .. res.masked_pan },
    { text = "ENTRY MODE  " .. res.entry_mode },
    { text = "TRANS TYPE  SALE" },
    { text = "BATCH " .. res.batch .. "  TRACE " .. res.trace },
    { text = "REF NO      " .. res.rrn },
    { text = "AUTH NO     " .. res.auth_code },
    { text = "DATE/TIME   " .. res.time },
    { text = "AMOUNT  RMB " .. money.yuan(res.amount), size = "double_height", bold = true },
  }) do
    table.insert(lines, l)
  end
  if copy == "MERCHANT COPY" then
    table.insert(lines, { text = "CARDHOLDER SIGNATURE" })
    table.insert(lines, { text = " " })
    table.insert(lines, { text = "I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES" })
  end
  order_qr(lines, res)
  foot(lines)
  return lines
end

local function wallet_sale(t, res, duplicate)
  local lines = {}
  head(t, lines, nil, duplicate, titles.wallet)
  for _, l in ipairs({
    { text = "MERCHANT NO " .. res.mid },
    { text = "TERMINAL NO " .. res.tid },
    { text = "PAID WITH   " .. (wallets[res.medium] or res.medium) },
    { text = "ORDER NO    " .. res.order_no },
    { text = "TRADE NO    " .. res.trade_no },
    { text = "BATCH " .. res.batch .. "  TRACE " .. res.trace },
    { text = "DATE/TIME   " .. res.time },
    { text = "AMOUNT  RMB " .. money.yuan(res.amount), size = "double_height", bold = true },
  }) do
    table.insert(lines, l)
  end
  order_qr(lines, res)
  foot(lines)
  return lines
end

-- a void or a refund: the amount given back.
local function reversal(t, res, kind, duplicate)
  local lines = {}
  head(t, lines, nil, duplicate, titles[string.lower(kind)])
  local paid = res.masked_pan
  if res.medium ~= "card" then
    paid = wallets[res.medium] or res.medium
  end
  for _, l in ipairs({
    { text = "TRANS TYPE  " .. kind, bold = true },
    { text = "TERMINAL NO " .. res.tid },
    { text = "PAID WITH   " .. paid },
    { text = "ORIG TRACE  " .. res.orig_trace },
    { text = "BATCH " .. res.batch .. "  TRACE " .. res.trace },
    { text = "DATE/TIME   " .. res.time },
    { text = "AMOUNT  RMB -" .. money.yuan(res.amount), size = "double_height", bold = true },
  }) do
    table.insert(lines, l)
  end
  order_qr(lines, res)
  foot(lines)
  return lines
end

-- yuan is an amount in fen as yuan with the fen exact ("12.34").
M.yuan = money.yuan

-- print_approved prints the receipts of res, a sale, void or refund
-- txn.execute returned, when it was approved: res.receipts_printed counts
-- the copies, res.print_error says why none printed (the transaction
-- stands: the cashier reprints once the printer is fixed).
function M.print_approved(res)
  res.receipts_printed = 0
  if res.result ~= "approved" then
    return
  end
  local lines, copies = M.document(terminal.info(), res, false)
  if copies == 0 then
    return
  end
  local ok, perr = printer.print({ copy = "receipt", lines = lines, cut = true })
  if ok then
    res.receipts_printed = copies
  else
    res.print_error = perr.message
  end
end

-- document returns lines, copies (0: nothing to print).
function M.document(t, res, duplicate)
  if res.kind == "sale" and res.medium == "card" then
    local lines = card_sale(t, res, "MERCHANT COPY", duplicate)
    table.insert(lines, { cut = true })
    for _, line in ipairs(card_sale(t, res, "CARDHOLDER COPY", duplicate)) do
      table.insert(lines, line)
    end
    return lines, 2
  elseif res.kind == "sale" then
    return wallet_sale(t, res, duplicate), 1
  elseif res.kind == "void" then
    return reversal(t, res, "VOID", duplicate), 1
  elseif res.kind == "refund" then
    return reversal(t, res, "REFUND", duplicate), 1
  end
  return {}, 0
end

return M

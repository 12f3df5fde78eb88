-- receipts.lua: the receipts every flow prints, in one place a merchant
-- can edit (a receipts.lua in the flows directory replaces this one).
-- receipts.document(t, res, duplicate) returns the print job of the
-- transaction res (the view txn.execute or txn.record returns) for the
-- terminal t (terminal.info()): its lines, with a cut between copies, and
-- how many copies it holds. posrt.receipt words the fields (the amount in
-- yuan with the fen exact, the title, what paid, the copies, the order
-- number's QR code); this file lays them out. A reprint is marked
-- DUPLICATE (and posrt marks any receipt printed again, whatever this file
-- does).

local receipt = require("posrt.receipt")
local money = require("posrt.money")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")

local M = {}

-- The footer: the lines at the foot of every receipt (each copy), centred.
local footer = { "THANK YOU 谢谢惠顾" }

local function add(lines, more)
  for _, l in ipairs(more) do
    table.insert(lines, l)
  end
end

-- foot: the order number as a QR code (the merchant scans it to find the
-- transaction again), then the footer.
local function foot(lines, f)
  table.insert(lines, { qr = f.order_code, align = "center" })
  table.insert(lines, { text = " " })
  for _, text in ipairs(footer) do
    table.insert(lines, { text = text, align = "center" })
  end
end

-- one copy of res's receipt.
local function copy(t, res, f, name, duplicate)
  local lines = {}
  table.insert(lines, { text = t.merchant_name, align = "center", size = "double", bold = true })
  table.insert(lines, { text = f.title, align = "center", bold = true })
  table.insert(lines, { text = name, align = "center" })
  if duplicate then
    table.insert(lines, { text = "DUPLICATE 重打印", align = "center", bold = true })
  end
  add(lines, {
    { text = "MERCHANT NO " .. res.mid },
    { text = "TERMINAL NO " .. res.tid },
    { text = "TRANS TYPE  " .. f.kind_name, bold = res.kind ~= "sale" },
  })
  if res.medium == "card" then
    add(lines, {
      { text = "CARD NO     " .. res.masked_pan },
      { text = "ENTRY MODE  " .. res.entry_mode },
    })
  else
    add(lines, {
      { text = "PAID WITH   " .. f.channel },
      { text = "ORDER NO" },
      { text = "  " .. res.order_no },
    })
    if res.trade_no ~= "" then
      add(lines, { { text = "TRADE NO" }, { text = "  " .. res.trade_no } })
    end
  end
  if res.orig_trace ~= "" then
    table.insert(lines, { text = "ORIG TRACE  " .. res.orig_trace })
  end
  table.insert(lines, { text = "BATCH " .. res.batch .. "  TRACE " .. res.trace })
  if res.rrn ~= "" then
    table.insert(lines, { text = "REF NO      " .. res.rrn })
  end
  if res.auth_code ~= "" and res.medium == "card" then
    table.insert(lines, { text = "AUTH NO     " .. res.auth_code })
  end
  add(lines, {
    { text = "DATE/TIME   " .. res.time },
    { text = "AMOUNT  RMB " .. f.signed_amount, size = "double_height", bold = true },
  })
  if res.medium == "card" and res.kind == "sale" and string.find(name, "MERCHANT", 1, true) then
    add(lines, {
      { text = "CARDHOLDER SIGNATURE" },
      { text = " " },
      { text = "I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES" },
    })
  end
  foot(lines, f)
  return lines
end

-- yuan is an amount in fen as yuan with the fen exact ("12.34").
M.yuan = money.yuan

-- document returns lines, copies (0: nothing to print).
function M.document(t, res, duplicate)
  if res.kind ~= "sale" and res.kind ~= "void" and res.kind ~= "refund" then
    return {}, 0
  end
  local f = receipt.fields(res)
  duplicate = duplicate or f.duplicate
  local lines = {}
  for i, name in ipairs(f.copies) do
    if i > 1 then
      table.insert(lines, { cut = true })
    end
    add(lines, copy(t, res, f, name, duplicate))
  end
  return lines, #f.copies
end

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

return M

-- sale.lua: a card sale (消费).
-- ctx.amount is the amount in fen (integer; 1 yuan = 100 fen).
-- Steps: read the card on the PIN pad, take the PIN, authorize with the
-- acquirer (the runtime journals the intent before anything is sent), then
-- print the merchant copy and the cardholder copy. A receipt that fails to
-- print never undoes an approved sale: the result says so and the cashier
-- reprints once the printer is fixed.

local pinpad = require("posrt.pinpad")
local txn = require("posrt.txn")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")
local money = require("posrt.money")

local function receipt(t, res, copy)
  local lines = {
    { text = t.merchant_name, align = "center", size = "double", bold = true },
    { text = copy, align = "center" },
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
  }
  if copy == "MERCHANT COPY" then
    table.insert(lines, { text = "CARDHOLDER SIGNATURE" })
    table.insert(lines, { text = " " })
    table.insert(lines, { text = "I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES" })
  end
  return { lines = lines, cut = true }
end

return function(ctx)
  local amount = ctx.amount
  -- The PIN pad shows the amount itself while it waits for the card.
  local card, err = pinpad.read_card({ amount = amount })
  if not card then
    return nil, err
  end

  local pin
  pin, err = pinpad.get_pin({ card = card, amount = amount })
  if not pin then
    return nil, err
  end

  local res
  res, err = txn.sale({ amount = amount, card = card, pin = pin })
  if not res then
    return nil, err
  end

  res.receipts_printed = 0
  if res.result == "approved" then
    -- Both copies in one print job, cut between them.
    local t = terminal.info()
    local job = receipt(t, res, "MERCHANT COPY")
    table.insert(job.lines, { cut = true })
    for _, line in ipairs(receipt(t, res, "CARDHOLDER COPY").lines) do
      table.insert(job.lines, line)
    end
    local ok, perr = printer.print(job)
    if ok then
      res.receipts_printed = 2
    else
      res.print_error = perr.message
    end
  else
    pinpad.display("DECLINED", res.message)
  end
  return res
end

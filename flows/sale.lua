-- sale.lua: a card sale (消费).
-- The runtime bound this run to one sale the cash register or cashier
-- created: ctx.amount is its amount in fen (1 yuan = 100 fen), shown here
-- and on the PIN pad, never chosen by the flow. Steps: read the card on the
-- PIN pad, take the PIN, execute the sale (the runtime journals, sends,
-- and reverses a sale without an answer), then print the merchant copy and
-- the cardholder copy. A receipt that fails to print never undoes an
-- approved sale: the result says so and the cashier reprints once the
-- printer is fixed.

local pinpad = require("posrt.pinpad")
local txn = require("posrt.txn")
local printer = require("posrt.printer")
local terminal = require("posrt.terminal")
local receipts = require("receipts")

return function(ctx)
  -- The PIN pad shows the operation's amount while it waits for the card.
  local card, err = pinpad.read_card({})
  if not card then
    return nil, err
  end

  local pin
  pin, err = pinpad.get_pin({ card = card })
  if not pin then
    return nil, err
  end

  local res
  res, err = txn.execute({ card = card, pin = pin })
  if not res then
    return nil, err
  end

  res.receipts_printed = 0
  if res.result == "approved" then
    -- Both copies in one print job, cut between them (receipts.lua).
    local lines, copies = receipts.document(terminal.info(), res, false)
    local ok, perr = printer.print({ copy = "receipt", lines = lines, cut = true })
    if ok then
      res.receipts_printed = copies
    else
      res.print_error = perr.message
    end
  else
    pinpad.display(string.upper(res.result), res.message)
  end
  return res
end

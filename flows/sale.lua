-- sale.lua: a sale (消费), paid by card or payment code: whichever the
-- customer presents first.
-- The runtime bound this run to one sale the cash register or cashier
-- created: ctx.amount is its amount in fen (1 yuan = 100 fen), shown here
-- and on the PIN pad, never chosen by the flow. ctx.medium is "card" when
-- the sale is for a card only, "undecided" when the customer may present
-- a card on the PIN pad or a payment code to the scanner, whichever comes
-- first (the runtime journals which before anything is sent). A card
-- takes the PIN; then the sale is executed (the runtime journals, sends,
-- and reverses a sale without an answer, or queries and cancels a wallet
-- payment whose outcome stays unknown) and the receipts print. A receipt
-- that fails to print never undoes an approved sale: the result says so
-- and the cashier reprints once the printer is fixed.

local ui = require("posrt.ui")
local pinpad = require("posrt.pinpad")
local txn = require("posrt.txn")
local receipts = require("receipts")

-- presented waits for the customer: a card, or a payment code when the
-- sale is undecided.
local function presented(ctx)
  if ctx.medium == "card" then
    local card, err = pinpad.read_card({})
    return card, nil, err
  end
  ui.show({ title = "CARD OR CODE 请刷卡或出示付款码", lines = { "RMB " .. receipts.yuan(ctx.amount) } })
  local ev, err = ui.wait({ card = true, code = true })
  if not ev then
    return nil, nil, err
  elseif ev.kind == "card" then
    return ev.card, nil, nil
  elseif ev.kind == "code" then
    return nil, ev.code, nil
  elseif ev.kind == "cancel" then
    return nil, nil, { code = "cancelled", message = "cancelled by the customer" }
  end
  return nil, nil, { code = "timeout", message = "the customer presented no card and no payment code in time" }
end

return function(ctx)
  local card, code, err = presented(ctx)
  if not card and not code then
    return nil, err
  end

  local res
  if card then
    local pin
    pin, err = pinpad.get_pin({ card = card })
    if not pin then
      return nil, err
    end
    res, err = txn.execute({ card = card, pin = pin })
  else
    res, err = txn.execute({ code = code })
  end
  if not res then
    return nil, err
  end

  receipts.print_approved(res)
  if res.result ~= "approved" and card then
    pinpad.display(string.upper(res.result), res.message)
  end
  return res
end

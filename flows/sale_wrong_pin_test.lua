-- sale_wrong_pin_test.lua: a cardholder who types a wrong PIN. The fake
-- PIN pad of this file's terminal enters a wrong PIN; the fake acquirer
-- answers 55: the sale is declined, nothing is charged, nothing prints.

return {
  plugins = { pinpad = { pin = "wrong" } },
  {
    name = "a wrong PIN declines the sale with 55",
    op = { kind = "sale", amount = 1234 },
    expect = { result = "declined", code = "55", receipts_printed = 0 },
  },
  {
    name = "a payment code needs no PIN: the QR sale is approved",
    op = { kind = "sale", amount = 880, auth_code = "134567890123456789" },
    expect = { result = "approved", channel = "wechat" },
  },
}

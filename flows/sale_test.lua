-- sale_test.lua: scenarios of the sale flows (sale.lua for cards,
-- qr_sale.lua for payment codes), run by `posrt flow test` in order on one
-- fresh terminal with fake devices and host simulators. The fake acquirer
-- declines a sale whose amount in fen ends in 51 with code 51 (insufficient
-- funds); the fake PIN pad reads a UnionPay debit card, 622202******0128.

return {
  {
    name = "approved card sale prints both copies",
    op = { kind = "sale", amount = 1234 },
    expect = { result = "approved", code = "00", channel = "card", amount = 1234,
               masked_pan = "622202******0128", receipts_printed = 2 },
    contains = { printed = { "MERCHANT COPY", "CARDHOLDER COPY", "AMOUNT  RMB 12.34", "622202******0128", "THANK YOU 谢谢惠顾" } },
  },
  {
    name = "declined card sale prints nothing",
    op = { kind = "sale", amount = 1251 },
    expect = { result = "declined", code = "51", receipts_printed = 0 },
  },
  {
    name = "WeChat Pay code is told from its digits",
    op = { kind = "sale", amount = 880, auth_code = "134567890123456789" },
    expect = { result = "approved", channel = "wechat", medium = "wechat", amount = 880, receipts_printed = 1 },
    contains = { printed = { "PAID WITH   微信支付 WECHAT PAY", "RMB 8.80" } },
  },
  {
    name = "Alipay code is told from its digits",
    op = { kind = "sale", amount = 990, auth_code = "286543210987654321" },
    expect = { result = "approved", channel = "alipay", receipts_printed = 1 },
    contains = { printed = "PAID WITH   支付宝 ALIPAY" },
  },
  {
    name = "UnionPay QR code is told from its digits",
    op = { kind = "sale", amount = 1000, auth_code = "6225000011112222333" },
    expect = { result = "approved", channel = "unionpay_qr", receipts_printed = 1 },
  },
  {
    name = "declined WeChat Pay sale prints nothing",
    op = { kind = "sale", amount = 2051, auth_code = "134567890123456780" },
    expect = { result = "declined", channel = "wechat", receipts_printed = 0 },
  },
  {
    name = "malformed payment code is refused before anything is sent",
    op = { kind = "sale", amount = 1234, auth_code = "9876543210" },
    expect_error = "invalid_auth_code",
  },
  {
    name = "reprint of the card sale is marked DUPLICATE",
    op = { kind = "reprint", orig = "approved card sale prints both copies" },
    expect = { result = "approved", amount = 1234, receipts_printed = 2 },
    contains = { printed = { "DUPLICATE", "MERCHANT COPY" } },
  },
  {
    name = "a declined sale has no receipt to reprint",
    op = { kind = "reprint", orig = "declined card sale prints nothing" },
    expect_error = "nothing_to_reprint",
  },
}

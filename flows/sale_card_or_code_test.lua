-- sale_card_or_code_test.lua: a sale the cash register sends without a
-- payment code takes whichever the customer presents first. This file's
-- PIN pad is slow (1 s a call) and its scanner reads one WeChat Pay code
-- at once: the first sale is paid by the code (no PIN, one slip); the
-- scanner has no more codes, so the second is paid by card.

return {
  plugins = { pinpad = { latency = "1s" }, scanner = { codes = "134567890123456789", interval = "10ms" } },
  {
    name = "the code comes first: a WeChat Pay sale",
    op = { kind = "sale", amount = 1500 },
    expect = { result = "approved", medium = "wechat", channel = "wechat", receipts_printed = 1 },
    contains = { shown = "CARD OR CODE", printed = "扫码支付凭证" },
  },
  {
    name = "no code comes: the card is read, a card sale",
    op = { kind = "sale", amount = 1600 },
    expect = { result = "approved", medium = "card", channel = "card", receipts_printed = 2 },
    contains = { printed = "POS 签购单" },
  },
}

-- books_test.lua: scenarios of query.lua and summary.lua (查询, 汇总), run
-- by `posrt flow test` on one fresh terminal: they read the journal and
-- send nothing.

return {
  {
    name = "a card sale",
    op = { kind = "sale", amount = 1234 },
    expect = { result = "approved" },
  },
  {
    name = "a WeChat Pay sale",
    op = { kind = "sale", amount = 880, auth_code = "134567890123456789" },
    expect = { result = "approved", channel = "wechat" },
  },
  {
    name = "the query shows the last transactions, newest first",
    op = { kind = "query" },
    expect = { result = "ok" },
    contains = { shown = { "SALE 000001/000003  approved", "RMB 8.80", "RMB 12.34  622202******0128" } },
  },
  {
    name = "the query of one trace",
    op = { kind = "query", orig = "a card sale" },
    expect = { result = "ok", count = 1 },
    contains = { shown = "RMB 12.34" },
  },
  {
    name = "the day's summary, printed",
    op = { kind = "summary", period = "day", print = true },
    expect = { result = "ok", period = "day", printed = true },
    contains = { printed = { "21.14" } },
  },
}

-- sale_paper_out_test.lua: the printer runs out of paper after the sale
-- was approved. The sale stands (charged once), the answer says so and
-- offers the reprint; a second sale is a new charge only when asked.

return {
  plugins = { printer = { paper = 0 } },
  {
    name = "approved sale stands when the receipt cannot print",
    op = { kind = "sale", amount = 1234 },
    expect = { result = "approved", code = "00", receipts_printed = 0 },
    contains = { warning = { "receipt not printed", "the transaction stands, do not charge again" } },
  },
  {
    name = "the reprint fails too while the paper is out, and charges nothing",
    op = { kind = "reprint" },
    expect_error = "printer",
  },
}

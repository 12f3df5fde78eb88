// Package books exports the journal's records, any journal.Filter of
// them, as the merchant's books: a CSV file (UTF-8 with a byte-order mark,
// so that Excel shows Chinese host messages) or an XLSX workbook written
// with excelize's stream writer, one row per record followed by the totals
// per medium counted as a settlement counts them (journal.Totals.Add). It
// reads one record at a time through journal.Journal.Each and writes as it
// reads, so a three-month history is never held in memory; the records hold
// only masked card numbers and payment codes, and so do the books.
package books

// Package iso8583 is the wire layer of posrt's card acquirer: the China
// UnionPay POS dialect of ISO 8583 on github.com/moov-io/iso8583, for both
// sides, a terminal packing requests and unpacking answers and a host (the
// simulator) unpacking requests and packing answers. The field formats
// follow the CUP POS message field description as its public summaries give
// it ("中国银联POS终端消息域说明", 2002, and the field table "银联常用8583报文域
// 说明" on csdndocs.com/article/7712474): MTI n4 and numeric fields BCD, left
// aligned when odd (field 23 right aligned), a binary 64-bit bitmap, LLVAR
// and LLLVAR lengths BCD in one and two bytes. A frame is a 2-byte
// big-endian length, the 5-byte TPDU (60, destination, source) and the
// 6-byte CUP header (60, version, status, request, sub-version), as the
// published captures on 360docs.net ("8583报文解析": 60 00 03 00 00 /
// 60 31 00 31 07 30) and q.cnblogs.com/q/128930 lay it out. Sign-in carries
// the working keys in field 62, void and refund the original in field 37
// and 61 (the authorization code of the voided sale in 38, as the CUP spec
// has it), a reversal its reason in 39 and, for a reversed void, the sale
// in 61; field 90 and secondary bitmaps are not used. Settlement totals and
// batch-upload records sit in field 48 as the CUP spec lays them out (its
// n...322 is 8 upload records of 40 digits and a count). The package never
// computes a MAC: MACData gives what field 64 covers, the PIN pad computes
// it, SetMAC puts it in place; on unpack ReceivedMAC gives the MAC and the
// bytes to verify. Unpacking refuses any input that does not repack to the
// same bytes, so the MAC is checked over exactly what was read.
package iso8583

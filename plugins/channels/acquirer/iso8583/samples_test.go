package iso8583

import (
	"github.com/posrt/posrt/plugins/channels"
)

func key(trace string) channels.Key {
	return channels.Key{TID: "12345678", MID: "123456789012345", Batch: "000001", Trace: trace}
}

func wk(b byte, n int) channels.WorkingKey {
	k := make([]byte, n)
	for i := range k {
		k[i] = b + byte(i)
	}
	return channels.WorkingKey{Encrypted: k, CheckValue: []byte{b, b + 1, b + 2, b + 3}}
}

func card() CardData {
	return CardData{PAN: "6222020200110128", Expiry: "3012", EntryMode: "021",
		Track2: "6222020200110128=30122201234567890"}
}

func chip() CardData {
	return CardData{PAN: "6222020200110128", Expiry: "3012", EntryMode: "051", CardSeq: "001",
		ICC: []byte{0x9F, 0x26, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}}
}

func answer(k channels.Key, pc ProcessingCode, t TypeCode, amount int64) Answer {
	return Answer{Key: k, Processing: pc, Amount: amount, PAN: "6222020200110128", Time: "103015", Date: "0827",
		SettleDate: "0827", AcquirerID: "01020000", RRN: "123456789012", AuthCode: "AB1234", Code: "00",
		Additional: "0102000001020000", Currency: CurrencyCNY, Type: t, Network: NetNone, MAC: []byte("1A2B3C4D")}
}

// sample is one message of every type, filled with every field it has.
type sample struct {
	name string
	msg  Message
	// fresh returns an empty value of the same type to unpack into.
	fresh func() Message
}

func samples() []sample {
	pin := []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}
	saleReq := CardRequest{Key: key("000123"), Amount: 1234, Card: card(), Condition: "00", PINMode: "06",
		PINBlock: pin, Security: "2600000000000000", Currency: CurrencyCNY, MAC: []byte("0F1E2D3C")}
	voidReq := saleReq
	voidReq.Key = key("000124")
	voidReq.Card = chip()
	refundReq := saleReq
	refundReq.Key = key("000125")
	refundReq.Amount = 500
	refundReq.PINBlock, refundReq.PINMode, refundReq.Security = nil, "", ""
	withNet := func(a Answer, n NetworkCode) Answer { a.Network = n; return a }
	voidAns := answer(key("000124"), ProcVoid, TypeVoid, 1234)
	voidAns.Original = Original{Batch: "000001", Trace: "000123"}
	return []sample{
		{"sign-in request", &SignInRequest{Key: key("000001"), Net: NetSignInDouble, Operator: "01 "}, func() Message { return new(SignInRequest) }},
		{"sign-in answer", &SignInResponse{Key: key("000001"), Net: NetSignInDouble, Time: "080000", Date: "0827",
			AcquirerID: "01020000", RRN: "000000000001", Code: "00", PINKey: wk(0x10, 16), MACKey: wk(0x40, 16)}, func() Message { return new(SignInResponse) }},
		{"sign-in answer with track key", &SignInResponse{Key: key("000002"), Net: NetSignInTrack, Code: "00",
			PINKey: wk(0x10, 16), MACKey: wk(0x40, 16), TrackKey: wk(0x70, 16)}, func() Message { return new(SignInResponse) }},
		{"sign-in answer single-length", &SignInResponse{Key: key("000003"), Net: NetSignInSingle, Code: "00",
			PINKey: wk(0x10, 8), MACKey: wk(0x40, 8)}, func() Message { return new(SignInResponse) }},
		{"echo request", &EchoRequest{Key: key("000004")}, func() Message { return new(EchoRequest) }},
		{"echo answer", &EchoResponse{Key: key("000004"), Time: "120000", Date: "0827", Code: "00"}, func() Message { return new(EchoResponse) }},
		{"sale request", &SaleRequest{saleReq}, func() Message { return new(SaleRequest) }},
		{"sale answer", &SaleResponse{answer(key("000123"), ProcSale, TypeSale, 1234)}, func() Message { return new(SaleResponse) }},
		{"void request", &VoidRequest{CardRequest: voidReq, OriginalRRN: "123456789012", OriginalAuthCode: "AB1234",
			Original: Original{Batch: "000001", Trace: "000123"}}, func() Message { return new(VoidRequest) }},
		{"void answer", &VoidResponse{voidAns}, func() Message { return new(VoidResponse) }},
		{"refund request", &RefundRequest{CardRequest: refundReq, OriginalRRN: "123456789012",
			Original: Original{Batch: "000001", Trace: "000123", Date: "0826"}}, func() Message { return new(RefundRequest) }},
		{"refund answer", &RefundResponse{answer(key("000125"), ProcRefund, TypeRefund, 500)}, func() Message { return new(RefundResponse) }},
		{"reversal request", &ReversalRequest{Key: key("000123"), Processing: ProcSale, Type: TypeSale, Amount: 1234,
			Card: CardData{PAN: "6222020200110128", Expiry: "3012", EntryMode: "021"}, Condition: "00", Currency: CurrencyCNY,
			Reason: channels.ReasonNoResponse, MAC: []byte("ABCDEF01")}, func() Message { return new(ReversalRequest) }},
		{"reversal of a void", &ReversalRequest{Key: key("000124"), Processing: ProcVoid, Type: TypeVoid, Amount: 1234,
			Card: chip(), Condition: "00", Currency: CurrencyCNY, AuthCode: "AB1234", Reason: channels.ReasonMACError,
			Original: Original{Batch: "000001", Trace: "000123"}, MAC: []byte("ABCDEF02")}, func() Message { return new(ReversalRequest) }},
		{"reversal answer", &ReversalResponse{withNet(answer(key("000123"), ProcSale, TypeSale, 1234), NetNone)}, func() Message { return new(ReversalResponse) }},
		{"settlement request", &SettleRequest{Key: key("000126"), Currency: CurrencyCNY, Operator: "01 ",
			Totals: Totals{Domestic: SideTotals{DebitAmount: 123400, DebitCount: 12, CreditAmount: 500, CreditCount: 1}}},
			func() Message { return new(SettleRequest) }},
		{"settlement answer", &SettleResponse{Key: key("000126"), Time: "230000", Date: "0827", SettleDate: "0828",
			RRN: "000000000126", Code: "00", Currency: CurrencyCNY,
			Totals: Totals{Domestic: SideTotals{DebitAmount: 123400, DebitCount: 12, CreditAmount: 500, CreditCount: 1, Result: SettleUnbalanced},
				Foreign: SideTotals{Result: SettleBalanced}}}, func() Message { return new(SettleResponse) }},
		{"batch upload", &BatchUploadRequest{Key: key("000127"), Net: NetSettle, Records: []BatchRecord{
			{Org: "00", Trace: "000123", PAN: "6222020200110128", Amount: 1234},
			{Org: "00", Trace: "000125", PAN: "6222020200110128123", Amount: 500}}}, func() Message { return new(BatchUploadRequest) }},
		{"batch upload end", &BatchUploadRequest{Key: key("000128"), Net: NetUploadEndUnbalanc, Total: 2}, func() Message { return new(BatchUploadRequest) }},
		{"batch upload answer", &BatchUploadResponse{Key: key("000127"), Net: NetSettle, Code: "00"}, func() Message { return new(BatchUploadResponse) }},
		{"query", &QueryRequest{Key: key("000123"), MAC: []byte("1A2B3C4D")}, func() Message { return new(QueryRequest) }},
		{"query answer", &QueryResponse{Key: key("000123"), Code: "00", Booking: "approved", Amount: 1234, Time: "103015", Date: "0827",
			RRN: "123456789012", AuthCode: "AB1234", BookedCode: "00", MAC: []byte("1A2B3C4D")}, func() Message { return new(QueryResponse) }},
		{"sale with an encrypted track", &SaleRequest{CardRequest{Key: key("000129"), Amount: 100, Condition: "00",
			Card: CardData{EntryMode: "021", Track3: "0123456789ABC=EF0123456789ABC=EF"}, Security: "2610000000000000", Currency: CurrencyCNY, MAC: []byte("0F1E2D3C")}},
			func() Message { return new(SaleRequest) }},
	}
}

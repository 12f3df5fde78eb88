package journal

import (
	"encoding/json"
	"testing"
)

func BenchmarkDecodeRecord(b *testing.B) {
	rec := Record{TID: "12345678", MID: "123456789012345", Batch: "000001", Trace: "000042", Kind: KindSale,
		Medium: MediumCard, Amount: 1234, State: StateApproved, HostCode: "00", RRN: "000000000042",
		MaskedPAN: "622202******0128", Operator: "01", EntryMode: "chip", AuthCode: "123456", RequestID: "r-1", Fingerprint: "abcdef0123456789",
		ReceiptPrinted: true}
	rec.CreatedAt = rec.CreatedAt.AddDate(2026, 0, 0)
	rec.UpdatedAt = rec.CreatedAt
	v, _ := encodeRecord(rec)
	jv, _ := json.Marshal(rec)
	b.Run("proto", func(b *testing.B) {
		var d recordDecoder
		for range b.N {
			if _, err := decodeRecord(v, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		for range b.N {
			var r Record
			if err := json.Unmarshal(jv, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package journal

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/encoding/protowire"
)

// fullRecord has every field of Record set, so that a field the stored
// form forgets shows as a difference.
func fullRecord(t *testing.T) Record {
	t.Helper()
	at := time.Date(2026, 8, 1, 10, 0, 0, 123456789, time.UTC)
	rec := Record{
		TID: "12345678", MID: "123456789012345", Batch: "000001", Trace: "000042",
		Kind: KindRefund, Medium: MediumWeChat, Amount: 1234, RequestID: "req-1", Fingerprint: "f1",
		Operator: "01", Original: &Key{TID: "12345678", Batch: "000001", Trace: "000041"},
		Refunded: 5, RefundHeld: 6, VoidedBy: &Key{TID: "12345678", Batch: "000001", Trace: "000043"},
		VoidHeld:  &Key{TID: "12345678", Batch: "000001", Trace: "000044"},
		MaskedPAN: "622202******0128", EntryMode: "chip", PaymentCode: "1344********1234",
		OrderNo: "12345678000001000042", RefundNo: "R12345678000001000042",
		State: StateApproved, HostCode: "00", HostMessage: "批准", RRN: "000000000042", AuthCode: "123456",
		TradeNo: "4200000001", Paid: 1200, HostTime: at.Add(time.Second),
		ReversalReason: "98", Attempts: 2, Flagged: true, LastError: "no answer", Note: "checked",
		ReceiptPrinted: true, Reprints: 3, CreatedAt: at, UpdatedAt: at.Add(2 * time.Second),
	}
	v := reflect.ValueOf(rec)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("fullRecord leaves %s unset", v.Type().Field(i).Name)
		}
	}
	return rec
}

// Every field of a record comes back from its stored form as it went in.
func TestRecordCodecKeepsEveryField(t *testing.T) {
	rec := fullRecord(t)
	v, err := encodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRecord(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, rec)
	}
	// Scratch space reused for a sparser record keeps nothing of the last.
	d := new(recordDecoder)
	if _, err := decodeRecord(v, d); err != nil {
		t.Fatal(err)
	}
	sparse := Record{TID: "12345678", Batch: "000002", Trace: "000001", Kind: KindSale, Medium: MediumCash, Amount: 1, State: StateApproved}
	v2, _ := encodeRecord(sparse)
	got, err = decodeRecord(v2, d)
	if err != nil || !reflect.DeepEqual(got, sparse) {
		t.Fatalf("sparse record after a full one = %+v, %v", got, err)
	}
	if _, err := decodeRecord([]byte{0xff, 0xff}, nil); err == nil {
		t.Fatal("garbage decoded as a record")
	}
}

// A journal of schema 3 (records as JSON) is re-encoded on open, field for
// field, and a second open finds nothing to do.
func TestMigratesSchemaV3(t *testing.T) {
	dir := t.TempDir()
	rec := fullRecord(t)
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := json.Marshal(rec)
	err = db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(keySchema, []byte("3")); err != nil {
			return err
		}
		if err := txn.Set(rec.Key().dbKey(), v); err != nil {
			return err
		}
		return txn.Set(dayKey(rec.CreatedAt, rec.Key()), dayValue(rec))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	var logged []string
	j, err := Open(dir, Options{Logf: func(f string, a ...any) { logged = append(logged, f) }})
	if err != nil {
		t.Fatal(err)
	}
	got, err := j.Get(rec.Key())
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("migrated record\n%+v, %v\nwant\n%+v", got, err, rec)
	}
	if len(logged) != 1 {
		t.Fatalf("logged %q, want the one migration", logged)
	}
	j.Close()
	logged = nil
	j, err = Open(dir, Options{Logf: func(f string, a ...any) { logged = append(logged, f) }})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if len(logged) != 0 {
		t.Fatalf("second open logged %q", logged)
	}
	// The step is idempotent: run again over re-encoded records, it
	// changes nothing.
	if n, err := migrateV3(j.db); err != nil || n != 0 {
		t.Fatalf("migrateV3 again = %d, %v", n, err)
	}
}

// A field a later release adds is skipped; a known field with the wrong
// wire type, a cut-off value and a field repeated past any record's count
// are refused rather than read as something else.
func TestRecordCodecRefusesWhatItCannotRead(t *testing.T) {
	rec := fullRecord(t)
	v, _ := encodeRecord(rec)
	later := protowire.AppendTag(append([]byte(nil), v...), 99, protowire.BytesType)
	later = protowire.AppendString(later, "a field of a later release")
	later = protowire.AppendTag(later, 100, protowire.VarintType)
	later = protowire.AppendVarint(later, 7)
	if got, err := decodeRecord(later, nil); err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("record with later fields = %+v, %v", got, err)
	}
	wrongType := protowire.AppendTag(append([]byte(nil), v...), 7, protowire.BytesType) // amount as bytes
	wrongType = protowire.AppendString(wrongType, "1234")
	if _, err := decodeRecord(wrongType, nil); err == nil {
		t.Fatal("amount with a string's wire type accepted")
	}
	if _, err := decodeRecord(v[:len(v)-1], nil); err == nil {
		t.Fatal("a record cut short decoded")
	}
	var repeated []byte
	for range 30 {
		repeated = protowire.AppendTag(repeated, 24, protowire.BytesType)
		repeated = protowire.AppendString(repeated, "000000000001")
	}
	if _, err := decodeRecord(repeated, nil); err == nil {
		t.Fatal("a field repeated 30 times accepted")
	}
}

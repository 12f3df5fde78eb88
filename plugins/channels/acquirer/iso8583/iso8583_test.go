package iso8583

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/posrt/posrt/plugins/pinpad/cardcrypto"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTripEveryMessage(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			b, err := s.msg.Pack()
			if err != nil {
				t.Fatal(err)
			}
			got := s.fresh()
			if err := got.Unpack(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, s.msg) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, s.msg)
			}
			if got.MTI() != s.msg.MTI() || string(b[:2]) != string(packBCD(string(s.msg.MTI()))) {
				t.Fatalf("MTI bytes %X, want %s", b[:2], s.msg.MTI())
			}
			mti, kind, err := Identify(b)
			if err != nil || mti != s.msg.MTI() || kind == "" {
				t.Fatalf("Identify = %s %s %v", mti, kind, err)
			}
		})
	}
}

// Every message type refuses the bytes of every other type.
func TestUnpackRefusesOtherTypes(t *testing.T) {
	ss := samples()
	for _, a := range ss {
		b, err := a.msg.Pack()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range ss {
			if reflect.TypeOf(o.msg) == reflect.TypeOf(a.msg) {
				continue
			}
			err := o.fresh().Unpack(b)
			if err == nil {
				t.Errorf("%T unpacked a %s", o.msg, a.name)
			} else if !errors.Is(err, ErrWrongMessage) && !errors.Is(err, ErrMissingField) {
				t.Errorf("%T on a %s: %v, want ErrWrongMessage or ErrMissingField", o.msg, a.name, err)
			}
		}
	}
}

// saleBytes is a sale request written by hand from the CUP field table
// (not by the packer): TID 12345678, MID 123456789012345, batch 000001,
// trace 000123, 12.34 yuan, a swiped card with PIN.
const saleBytes = `
0200                               MTI n4 BCD
7024 04C0 20C0 9811                bitmap: 2 3 4 11 14 22 25 26 35 41 42 49 52 53 60 64
16 6222020200110128                F2  LLVAR n..19: length 16 digits, BCD
000000                             F3  processing code 000000
000000001234                       F4  amount 1234 fen
000123                             F11 trace
3012                               F14 expiry YYMM
0210                               F22 entry mode 021, left aligned, pad 0
00                                 F25 condition code
06                                 F26 PIN capture code
34 6222020200110128D30122201234567890   F35 LLVAR z..37: 34 digits, '=' as D
3132333435363738                   F41 TID ans8 ASCII
313233343536373839303132333435     F42 MID ans15 ASCII
313536                             F49 currency 156 ASCII
0123456789ABCDEF                   F52 PIN block b64
2600000000000000                   F53 n16
0011 220000010000                  F60 LLLVAR: 11 digits 22 000001 000, pad 0
0000000000000000                   F64 MAC placeholder
`

func handHex(t *testing.T, s string) []byte {
	t.Helper()
	var hexs []string
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "  "); i >= 0 {
			line = line[:i]
		}
		hexs = append(hexs, line)
	}
	return unhex(t, strings.Join(hexs, " "))
}

func TestSaleRequestBytesByHand(t *testing.T) {
	want := handHex(t, saleBytes)
	sale := SaleRequest{CardRequest{Key: key("000123"), Amount: 1234, Card: card(), Condition: "00", PINMode: "06",
		PINBlock: []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}, Security: "2600000000000000",
		Currency: CurrencyCNY, MAC: PlaceholderMAC()}}
	got, err := sale.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("sale request:\n got %X\nwant %X", got, want)
	}
	// The MAC covers MTI to F63, and goes into the last 8 bytes.
	if d := MACData(got); !bytes.Equal(d, want[:len(want)-8]) {
		t.Fatalf("MACData = %X", d)
	}
	if err := SetMAC(got, []byte("1A2B3C4D")); err != nil {
		t.Fatal(err)
	}
	mac, covered, ok := ReceivedMAC(got)
	if !ok || string(mac) != "1A2B3C4D" || !bytes.Equal(covered, want[:len(want)-8]) {
		t.Fatalf("ReceivedMAC = %q %X %v", mac, covered, ok)
	}
	var back SaleRequest
	if err := back.Unpack(got); err != nil || string(back.MAC) != "1A2B3C4D" {
		t.Fatalf("Unpack = %+v, %v", back, err)
	}
	// The same message in a frame: length, TPDU 60 0003 0000, header 60 31 00 000000.
	var buf bytes.Buffer
	if err := WriteFrame(&buf, Frame{TPDU: TPDU{Dest: [2]byte{0, 3}}, Header: DefaultHeader(), Message: got}, 1024); err != nil {
		t.Fatal(err)
	}
	head := unhex(t, "00"+hex.EncodeToString([]byte{byte(11 + len(got))})+" 6000030000 603100000000")
	if !bytes.Equal(buf.Bytes()[:13], head) || !bytes.Equal(buf.Bytes()[13:], got) {
		t.Fatalf("frame = %X", buf.Bytes())
	}
}

// A 0200 frame published with its host-accepted MAC (q.cnblogs.com/q/128930):
// this package's framing, field layout and MACData must agree with it, and
// the UnionPay ECB MAC over MACData is its field 64.
const publishedFrame = `007f 6000030000 603210320072 0200 30200480 00c08015 000000 000000001234 000002 0300 99
3030303030303031 393532373138313832323137383735 313536 0019 26000001000600000000
0043 5f0112323834343132333435363738393031323334 5f0306313630303336 5f0406323030383236 5c023031
4233413039324145`

func TestPublishedFrame(t *testing.T) {
	raw := unhex(t, publishedFrame)
	f, err := ReadFrame(bytes.NewReader(raw), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if f.TPDU != (TPDU{Dest: [2]byte{0, 3}}) || f.Header != (Header{AppType: "60", Version: "32", TerminalStatus: '1', Request: '0', SubVersion: "320072"}) {
		t.Fatalf("frame header %+v", f)
	}
	mti, kind, err := Identify(f.Message)
	if err != nil || mti != MTIFinancial || kind != KindSale {
		t.Fatalf("Identify = %s %s %v", mti, kind, err)
	}
	mac, covered, ok := ReceivedMAC(f.Message)
	if !ok {
		t.Fatal("no MAC")
	}
	want, err := cardcrypto.ECBMAC(unhex(t, "0723C80DB5F4CD3D0723C80DB5F4CD3D"), covered)
	if err != nil || !bytes.Equal(mac, want) {
		t.Fatalf("field 64 %q, ECB MAC of MACData %q (%v)", mac, want, err)
	}
	w, err := parse(f.Message)
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range map[int]string{3: "000000", 4: "000000001234", 11: "000002", 22: "030", 25: "99", 41: "00000001", 42: "952718182217875", 49: "156", 60: "2600000100060000000"} {
		if got := w.get(id); got != v {
			t.Errorf("field %d = %q, want %q", id, got, v)
		}
	}
}

func TestUnpackRefusesBadInput(t *testing.T) {
	sale, err := samples()[6].msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	wrongMTI := append([]byte{0x02, 0x10}, sale[2:]...)
	badBCD := append([]byte(nil), sale...)
	badBCD[11] = 0xAB // the first PAN digits
	padded := append([]byte(nil), sale...)
	padded[len(padded)-9-5] |= 0x0F // the pad nibble of field 60
	bit1 := append([]byte(nil), sale...)
	bit1[2] |= 0x80
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"empty":            {nil, ErrTruncated},
		"MTI only":         {sale[:2], ErrTruncated},
		"cut in a field":   {sale[:30], ErrTruncated},
		"cut before MAC":   {sale[:len(sale)-3], ErrTruncated},
		"trailing bytes":   {append(append([]byte(nil), sale...), 0, 0), ErrMalformed},
		"wrong MTI":        {wrongMTI, ErrWrongMessage},
		"bad BCD":          {badBCD, ErrMalformed},
		"pad nibble set":   {padded, ErrMalformed},
		"secondary bitmap": {bit1, ErrMalformed},
		"garbage":          {bytes.Repeat([]byte{0xFF}, 40), ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			var m SaleRequest
			err := m.Unpack(tc.b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Unpack = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestFrameErrors(t *testing.T) {
	msg, _ := (&EchoRequest{Key: key("000001")}).Pack()
	var buf bytes.Buffer
	if err := WriteFrame(&buf, Frame{Header: DefaultHeader(), Message: msg}, 1024); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	f, err := ReadFrame(bytes.NewReader(good), 1024)
	if err != nil || !bytes.Equal(f.Message, msg) {
		t.Fatalf("ReadFrame = %+v, %v", f, err)
	}
	if err := WriteFrame(io.Discard, Frame{Header: DefaultHeader(), Message: msg}, 10); !errors.Is(err, ErrTooLong) {
		t.Fatalf("WriteFrame over max: %v", err)
	}
	if err := WriteFrame(io.Discard, Frame{Header: Header{AppType: "6"}, Message: msg}, 1024); !errors.Is(err, ErrInvalid) {
		t.Fatalf("WriteFrame bad header: %v", err)
	}
	noTPDU := append([]byte(nil), good...)
	noTPDU[2] = 0x61
	badHeader := append([]byte(nil), good...)
	badHeader[7] = 0xFA
	for name, tc := range map[string]struct {
		b    []byte
		max  int
		want error
	}{
		"clean end":      {nil, 1024, io.EOF},
		"half a length":  {good[:1], 1024, ErrTruncated},
		"cut body":       {good[:len(good)-1], 1024, ErrTruncated},
		"oversized":      {good, len(good) - 3, ErrTooLong},
		"huge length":    {[]byte{0xFF, 0xFF, 0x60}, 4096, ErrTooLong},
		"too short":      {[]byte{0x00, 0x05, 0x60, 0, 0, 0, 0}, 1024, ErrMalformed},
		"not a TPDU":     {noTPDU, 1024, ErrMalformed},
		"header not BCD": {badHeader, 1024, ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(tc.b), tc.max)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ReadFrame = %v, want %v", err, tc.want)
			}
		})
	}
	if r := (TPDU{Dest: [2]byte{0, 3}, Src: [2]byte{0, 1}}).Reply(); r != (TPDU{Dest: [2]byte{0, 1}, Src: [2]byte{0, 3}}) {
		t.Fatalf("Reply = %+v", r)
	}
}

func TestPackRefusesInvalidValues(t *testing.T) {
	for name, m := range map[string]Message{
		"negative amount":  &SaleRequest{CardRequest{Key: key("000001"), Amount: -1, Card: card(), Condition: "00", Currency: CurrencyCNY}},
		"13-digit amount":  &SaleRequest{CardRequest{Key: key("000001"), Amount: MaxAmount + 1, Card: card(), Condition: "00", Currency: CurrencyCNY}},
		"short trace":      &SaleRequest{CardRequest{Key: key("123"), Amount: 1, Card: card(), Condition: "00", Currency: CurrencyCNY}},
		"letters in PAN":   &SaleRequest{CardRequest{Key: key("000001"), Amount: 1, Card: CardData{PAN: "622202******0128", EntryMode: "021"}, Condition: "00", Currency: CurrencyCNY}},
		"short MAC":        &SaleRequest{CardRequest{Key: key("000001"), Amount: 1, Card: card(), Condition: "00", Currency: CurrencyCNY, MAC: []byte{1}}},
		"refund no date":   &RefundRequest{CardRequest: CardRequest{Key: key("000001"), Amount: 1, Card: card(), Condition: "00", Currency: CurrencyCNY}, Original: Original{Batch: "000001", Trace: "000001"}},
		"reversal track":   &ReversalRequest{Key: key("000001"), Processing: ProcSale, Type: TypeSale, Card: card(), Reason: "98"},
		"sign-in net":      &SignInRequest{Key: key("000001"), Net: NetEcho},
		"9 upload records": &BatchUploadRequest{Key: key("000001"), Net: NetSettle, Records: make([]BatchRecord, 9)},
		"count 1000":       &SettleRequest{Key: key("000001"), Totals: Totals{Domestic: SideTotals{DebitCount: 1000}}},
		"sale answer pc":   &SaleResponse{answer(key("000001"), ProcVoid, TypeSale, 1)},
		"keys wrong size":  &SignInResponse{Key: key("000001"), Net: NetSignInDouble, Code: "00", PINKey: wk(1, 8), MACKey: wk(2, 8)},
	} {
		if _, err := m.Pack(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Pack = %v, want ErrInvalid", name, err)
		}
	}
}

func TestSettleBalanced(t *testing.T) {
	r := SettleResponse{Totals: Totals{Domestic: SideTotals{Result: SettleBalanced}, Foreign: SideTotals{Result: SettleBalanced}}}
	if !r.Balanced() {
		t.Fatal("balanced totals not Balanced")
	}
	r.Totals.Domestic.Result = SettleUnbalanced
	if r.Balanced() {
		t.Fatal("unbalanced totals Balanced")
	}
}

// Field 48 of a settlement, by hand: debit 1234.00 yuan in 12, credit 5.00
// in 1, answer code 0, then the foreign side all zero.
func TestSettleField48ByHand(t *testing.T) {
	b, err := samples()[15].msg.Pack()
	if err != nil {
		t.Fatal(err)
	}
	w, err := parse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := "000000123400" + "012" + "000000000500" + "001" + "0" + strings.Repeat("0", 31)
	if got := w.get(48); got != want {
		t.Fatalf("field 48 = %s, want %s", got, want)
	}
}

func TestDescribe(t *testing.T) {
	for _, c := range []string{"00", "01", "03", "05", "12", "13", "14", "22", "25", "30", "40", "41", "43", "51", "54", "55",
		"57", "58", "61", "62", "64", "65", "75", "90", "91", "92", "94", "96", "97", "98", "99", "A0"} {
		r := Describe(c)
		if r.Code != c || r.English == "" || r.Chinese == "" || r.Action == "" || strings.Contains(r.English, "code "+c) {
			t.Errorf("Describe(%s) = %+v", c, r)
		}
		if r.Approved() != (c == "00") {
			t.Errorf("Describe(%s).Approved() = %v", c, r.Approved())
		}
	}
	for c, a := range map[string]Action{"51": ActionDeclined, "96": ActionRetryLater, "97": ActionCallAcquirer, "A0": ActionCallAcquirer, "91": ActionRetryLater} {
		if got := Describe(c).Action; got != a {
			t.Errorf("Describe(%s).Action = %s, want %s", c, got, a)
		}
	}
	if r := Describe("Z9"); r.Action != ActionDeclined || !strings.Contains(r.English, "Z9") {
		t.Errorf("Describe(Z9) = %+v", r)
	}
}

// The seed corpus holds every packed sample; POSRT_WRITE_CORPUS=1 rewrites it.
func TestSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzUnpack")
	write := os.Getenv("POSRT_WRITE_CORPUS") == "1"
	for _, s := range samples() {
		b, err := s.msg.Pack()
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, strings.ReplaceAll(s.name, " ", "-"))
		content := "go test fuzz v1\n[]byte(" + quote(b) + ")\n"
		if write {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(name); err != nil || string(got) != content {
			t.Errorf("seed %s is missing or stale (POSRT_WRITE_CORPUS=1 go test -run TestSeedCorpus): %v", name, err)
		}
	}
}

func quote(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		sb.WriteString(`\x`)
		sb.WriteString(hex.EncodeToString([]byte{c}))
	}
	sb.WriteByte('"')
	return sb.String()
}

func FuzzUnpack(f *testing.F) {
	ss := samples()
	for _, s := range ss {
		b, err := s.msg.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = Identify(b)
		_, _ = ParseFrame(b)
		_, _ = ReadFrame(bytes.NewReader(b), 2048)
		for _, s := range ss {
			m := s.fresh()
			if err := m.Unpack(b); err != nil {
				continue
			}
			// What unpacks packs again and unpacks to the same value.
			again, err := m.Pack()
			if err != nil {
				t.Fatalf("%T unpacked but does not pack: %v", m, err)
			}
			m2 := s.fresh()
			if err := m2.Unpack(again); err != nil || !reflect.DeepEqual(m, m2) {
				t.Fatalf("%T: repacked message unpacks to %+v (%v), was %+v", m, m2, err, m)
			}
		}
	})
}

func BenchmarkPackUnpackSale(b *testing.B) {
	sale := samples()[6].msg
	b.ReportAllocs()
	var n int
	for b.Loop() {
		p, err := sale.Pack()
		if err != nil {
			b.Fatal(err)
		}
		var m SaleRequest
		if err := m.Unpack(p); err != nil {
			b.Fatal(err)
		}
		n = len(p)
	}
	b.ReportMetric(float64(n), "bytes/msg")
}

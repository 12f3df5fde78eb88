package acqsim

import (
	"errors"
	"slices"

	"github.com/posrt/posrt/plugins/channels/acquirer/iso8583"
)

// saleOfOtherType reads a 0200 with processing code 000000 whose type code
// (60.1) is not a sale's 22, as real terminals send for transactions the
// host does not do (a scanned payment code, 60.1 26, in the published
// frame of TestPublishedTerminalFrame). iso8583.SaleRequest refuses such a
// message with ErrWrongMessage; the host reads its fields anyway so that it
// can answer it (12, unbooked) with fields 11, 41, 42 and 4 echoed instead
// of dropping the connection. It finds the byte of 60.1 (field 60 is LLL
// BCD digits, the first two its type code), reads the message with that
// byte set to 22, and returns the request and the type code it carried.
// The MAC is checked on msg itself, never on the copy.
func saleOfOtherType(msg []byte) (iso8583.SaleRequest, iso8583.TypeCode, bool) {
	var m iso8583.SaleRequest
	if err := m.Unpack(msg); err == nil || !errors.Is(err, iso8583.ErrWrongMessage) {
		return iso8583.SaleRequest{}, "", false
	}
	for _, at := range typeCodeOffsets(msg) {
		typ, ok := bcdByte(msg[at])
		if !ok || iso8583.TypeCode(typ) == iso8583.TypeSale {
			continue
		}
		retyped := slices.Clone(msg)
		retyped[at] = 0x22
		if m.Unpack(retyped) == nil {
			return m, iso8583.TypeCode(typ), true
		}
	}
	return iso8583.SaleRequest{}, "", false
}

// typeCodeOffsets are the offsets in msg where field 60 can start such that
// fields 60 to 64, as the bitmap has them (60, 61 LLL digits, 62 LLL bytes,
// 63 LLL characters, 64 8 bytes), end exactly at the end of msg: each is the
// offset of the byte holding 60.1.
func typeCodeOffsets(msg []byte) []int {
	const head = 2 + 8 // MTI and bitmap
	if len(msg) < head {
		return nil
	}
	bitmap := msg[2:head]
	has := func(id int) bool { return bitmap[(id-1)/8]&(0x80>>((id-1)%8)) != 0 }
	if !has(60) {
		return nil
	}
	var out []int
	for i := head; i+3 <= len(msg); i++ {
		n, ok := lll(msg, i)
		if !ok || n < 11 {
			continue // field 60 is at least type, batch and network code
		}
		j := i + 2 + (n+1)/2
		for _, f := range []struct {
			id     int
			digits bool
		}{{61, true}, {62, false}, {63, false}} {
			if !has(f.id) || !ok {
				continue
			}
			var l int
			if l, ok = lll(msg, j); ok {
				if f.digits {
					l = (l + 1) / 2
				}
				j += 2 + l
			}
		}
		if has(64) {
			j += 8
		}
		if ok && j == len(msg) {
			out = append(out, i+2)
		}
	}
	return out
}

// lll reads the two-byte BCD length prefix at b[i:].
func lll(b []byte, i int) (int, bool) {
	if i+2 > len(b) {
		return 0, false
	}
	hi, ok1 := bcdByte(b[i])
	lo, ok2 := bcdByte(b[i+1])
	if !ok1 || !ok2 {
		return 0, false
	}
	return atoi(hi)*100 + atoi(lo), true
}

// bcdByte is the two digits of a BCD byte.
func bcdByte(c byte) (string, bool) {
	hi, lo := c>>4, c&0x0F
	if hi > 9 || lo > 9 {
		return "", false
	}
	return string([]byte{'0' + hi, '0' + lo}), true
}

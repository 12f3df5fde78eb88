package iso8583

import (
	"fmt"

	moov "github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
)

// Field formats of the CUP POS spec, as the moov-io/iso8583 spec expresses
// them: n = digits packed as BCD (two per byte), left aligned with a zero
// pad nibble when odd; z = track data packed as BCD with '=' as the nibble D;
// an/ans = ASCII; b = binary. Variable fields have a BCD length prefix (LL =
// one byte, LLL = two bytes) counting digits for n and z, characters for
// ans, bytes for b.

func fixedN(desc string, n int) field.Field {
	return field.NewString(&field.Spec{Length: n, Description: desc, Enc: encoding.LBCD, Pref: prefix.BCD.Fixed})
}

// fixedRN is a fixed numeric field packed right aligned (a leading pad
// nibble when odd), as the CUP spec packs field 23.
func fixedRN(desc string, n int) field.Field {
	return field.NewString(&field.Spec{Length: n, Description: desc, Enc: encoding.BCD, Pref: prefix.BCD.Fixed})
}

func varN(desc string, max int, pref prefix.Prefixer) field.Field {
	return field.NewString(&field.Spec{Length: max, Description: desc, Enc: encoding.LBCD, Pref: pref})
}

func varZ(desc string, max int, pref prefix.Prefixer) field.Field {
	return field.NewString(&field.Spec{Length: max, Description: desc, Enc: trackBCD{}, Pref: pref})
}

func fixedAN(desc string, n int) field.Field {
	return field.NewString(&field.Spec{Length: n, Description: desc, Enc: encoding.ASCII, Pref: prefix.BCD.Fixed})
}

func varAN(desc string, max int, pref prefix.Prefixer) field.Field {
	return field.NewString(&field.Spec{Length: max, Description: desc, Enc: encoding.ASCII, Pref: pref})
}

func fixedB(desc string, n int) field.Field {
	return field.NewBinary(&field.Spec{Length: n, Description: desc, Enc: encoding.Binary, Pref: prefix.Binary.Fixed})
}

func varB(desc string, max int, pref prefix.Prefixer) field.Field {
	return field.NewBinary(&field.Spec{Length: max, Description: desc, Enc: encoding.Binary, Pref: pref})
}

// spec is the China UnionPay POS 8583 spec posrt speaks: MTI n4 BCD, a
// 64-bit binary bitmap (no secondary bitmap) and the fields below.
var spec = &moov.MessageSpec{
	Name: "China UnionPay POS (posrt)",
	Fields: map[int]field.Field{
		0:  fixedN("Message Type Identifier", 4),
		1:  field.NewBitmap(&field.Spec{Length: 8, Description: "Bitmap", Enc: encoding.Binary, Pref: prefix.Binary.Fixed, DisableAutoExpand: true}),
		2:  varN("Primary Account Number", 19, prefix.BCD.LL),
		3:  fixedN("Processing Code", 6),
		4:  fixedN("Amount, Transaction", 12),
		11: fixedN("System Trace Audit Number", 6),
		12: fixedN("Time, Local Transaction", 6),
		13: fixedN("Date, Local Transaction", 4),
		14: fixedN("Date, Expiration", 4),
		15: fixedN("Date, Settlement", 4),
		22: fixedN("Point of Service Entry Mode", 3),
		23: fixedRN("Card Sequence Number", 3),
		25: fixedN("Point of Service Condition Code", 2),
		26: fixedN("Point of Service PIN Capture Code", 2),
		32: varN("Acquiring Institution Identification Code", 11, prefix.BCD.LL),
		35: varZ("Track 2 Data", 37, prefix.BCD.LL),
		36: varZ("Track 3 Data", 104, prefix.BCD.LLL),
		37: fixedAN("Retrieval Reference Number", 12),
		38: fixedAN("Authorization Identification Response", 6),
		39: fixedAN("Response Code", 2),
		41: fixedAN("Card Acceptor Terminal Identification", 8),
		42: fixedAN("Card Acceptor Identification Code", 15),
		44: varAN("Additional Response Data", 25, prefix.BCD.LL),
		48: varN("Additional Data - Private", 322, prefix.BCD.LLL),
		49: fixedAN("Currency Code, Transaction", 3),
		52: fixedB("PIN Data", 8),
		53: fixedN("Security Related Control Information", 16),
		55: varB("ICC System Related Data", 255, prefix.BCD.LLL),
		60: varN("Reserved Private (type, batch, network management code)", 100, prefix.BCD.LLL),
		61: varN("Original Message", 29, prefix.BCD.LLL),
		62: varB("Reserved Private (working keys)", 512, prefix.BCD.LLL),
		63: varAN("Reserved Private (operator, card organisation)", 163, prefix.BCD.LLL),
		64: fixedB("Message Authentication Code", 8),
	},
}

// trackBCD packs track data (digits and the separator '=') as nibbles, the
// separator as D, left aligned with a zero pad nibble when odd.
type trackBCD struct{}

func (trackBCD) Encode(src []byte) ([]byte, error) {
	out := make([]byte, (len(src)+1)/2)
	for i, c := range src {
		var n byte
		switch {
		case c >= '0' && c <= '9':
			n = c - '0'
		case c == '=' || c == 'D':
			n = 0xD
		default:
			return nil, fmt.Errorf("track data holds %q", c)
		}
		if i%2 == 0 {
			out[i/2] = n << 4
		} else {
			out[i/2] |= n
		}
	}
	return out, nil
}

func (trackBCD) Decode(src []byte, length int) ([]byte, int, error) {
	if length < 0 {
		return nil, 0, fmt.Errorf("negative track length %d", length)
	}
	read := (length + 1) / 2
	if len(src) < read {
		return nil, 0, fmt.Errorf("not enough data to decode: track needs %d bytes, has %d", read, len(src))
	}
	out := make([]byte, length)
	for i := range out {
		n := src[i/2] >> 4
		if i%2 == 1 {
			n = src[i/2] & 0x0F
		}
		switch {
		case n <= 9:
			out[i] = '0' + n
		case n == 0xD:
			out[i] = '='
		default:
			return nil, 0, fmt.Errorf("track data holds the nibble %X", n)
		}
	}
	return out, read, nil
}

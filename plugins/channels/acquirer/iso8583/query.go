package iso8583

import (
	"fmt"

	"github.com/posrt/posrt/plugins/channels"
)

// NetQuery is posrt's private network management code (60.3) of a query:
// CUP has no message that asks a host what it booked under a trace, so
// posrt's simulator answers one in the 3xx range CUP leaves to network
// management. A real CUP host answers it as an unknown message.
const NetQuery NetworkCode = "390"

// QueryRequest is posrt's query (0800, 60.3 390): 11 the trace asked
// after, 41, 42, 60 (00, its batch, 390), 64 the MAC.
type QueryRequest struct {
	Key channels.Key
	MAC []byte
}

func (*QueryRequest) MTI() MTI { return MTINetwork }

func (m *QueryRequest) Pack() ([]byte, error) {
	return packMsg("query", MTINetwork, func(w *wire) {
		w.setKey(m.Key)
		w.set60(Field60{Type: TypeNetwork, Batch: m.Key.Batch, Net: NetQuery})
		w.setB(64, m.MAC)
	})
}

func (m *QueryRequest) Unpack(b []byte) error {
	w, f60, err := network(b, MTINetwork, 11, 41, 42, 60)
	if err == nil && f60.Net != NetQuery {
		err = fmt.Errorf("%w: network code %s is not a query", ErrWrongMessage, f60.Net)
	}
	if err != nil {
		return unpackErr("query", err)
	}
	*m = QueryRequest{Key: w.key(f60), MAC: w.getB(64)}
	return nil
}

// QueryResponse is the answer to a query (0810, 60.3 390): 11, 41, 42, 60
// echoed, 39 the query's own code (00: answered), 44 the booking
// (channels.Booking), and of the booked answer 4 amount, 12 and 13 its host
// time, 37 RRN, 38 authorization code, 63 its response code; 64 the MAC.
type QueryResponse struct {
	Key        channels.Key
	Code       string
	Booking    channels.Booking
	Amount     int64
	Time       string
	Date       string
	RRN        string
	AuthCode   string
	BookedCode string
	MAC        []byte
}

func (*QueryResponse) MTI() MTI { return MTINetworkResponse }

func (m *QueryResponse) Pack() ([]byte, error) {
	return packMsg("query answer", MTINetworkResponse, func(w *wire) {
		w.setAmount(4, m.Amount)
		w.setKey(m.Key)
		w.set(12, m.Time)
		w.set(13, m.Date)
		w.set(37, m.RRN)
		w.set(38, m.AuthCode)
		w.set(39, m.Code)
		w.set(44, string(m.Booking))
		w.set60(Field60{Type: TypeNetwork, Batch: m.Key.Batch, Net: NetQuery})
		w.set(63, m.BookedCode)
		w.setB(64, m.MAC)
	})
}

func (m *QueryResponse) Unpack(b []byte) error {
	w, f60, err := network(b, MTINetworkResponse, 11, 39, 41, 42, 60)
	if err == nil && f60.Net != NetQuery {
		err = fmt.Errorf("%w: network code %s is not a query", ErrWrongMessage, f60.Net)
	}
	if err != nil {
		return unpackErr("query answer", err)
	}
	*m = QueryResponse{Key: w.key(f60), Code: w.get(39), Booking: channels.Booking(w.get(44)), Amount: w.amount(4),
		Time: w.get(12), Date: w.get(13), RRN: w.get(37), AuthCode: w.get(38), BookedCode: w.get(63), MAC: w.getB(64)}
	return nil
}

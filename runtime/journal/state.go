package journal

import (
	"fmt"
	"slices"
)

// Kind is what an operation does.
type Kind string

// Operation kinds.
const (
	KindSale   Kind = "sale"
	KindVoid   Kind = "void"
	KindRefund Kind = "refund"
	KindCash   Kind = "cash" // a cash entry: journaled and totalled, nothing sent
	KindSignIn Kind = "signin"
	KindSettle Kind = "settle"
)

// Kinds lists every kind.
var Kinds = []Kind{KindSale, KindVoid, KindRefund, KindCash, KindSignIn, KindSettle}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Money reports whether an operation of kind k moves money (and so carries
// an amount).
func (k Kind) Money() bool { return k == KindSale || k == KindVoid || k == KindRefund || k == KindCash }

// Medium is how the customer pays, and so which channel carries the
// operation.
type Medium string

// Media.
const (
	MediumCard       Medium = "card"
	MediumWeChat     Medium = "wechat"
	MediumAlipay     Medium = "alipay"
	MediumUnionPayQR Medium = "unionpay_qr"
	MediumCash       Medium = "cash"
)

// MediumUndecided is the medium of a sale journaled before the customer
// presented anything: whichever comes first, a card on the PIN pad or a
// payment code, decides it (Journal.Decide) before anything is sent. A
// sale abandoned undecided never left the terminal.
const MediumUndecided Medium = "undecided"

// Media lists every medium.
var Media = []Medium{MediumCard, MediumWeChat, MediumAlipay, MediumUnionPayQR, MediumCash}

// Valid reports whether m is a known medium.
func (m Medium) Valid() bool { return slices.Contains(Media, m) }

// Decided reports whether m names how the customer pays (not
// MediumUndecided).
func (m Medium) Decided() bool { return m != MediumUndecided }

// Wallet reports whether m is a payment-code wallet.
func (m Medium) Wallet() bool {
	return m == MediumWeChat || m == MediumAlipay || m == MediumUnionPayQR
}

// ParseMedium returns s as a Medium, or an error naming the media.
func ParseMedium(s string) (Medium, error) {
	if m := Medium(s); m.Valid() {
		return m, nil
	}
	return "", fmt.Errorf("unknown medium %q: want one of %v", s, Media)
}

// State is where a record is in its life.
type State string

// States. A record is created (synced) before its request leaves and then
// moves to what the host answered: approved,
// declined, in progress (a wallet's customer is still entering a
// password), or unknown (no answer, a bad MAC, a crash). Not sent is a
// request that never left the terminal (nothing to resolve). An unknown
// outcome is resolved per channel: a card is reversed (reversal pending,
// journaled with its reason before the reversal goes, then reversed); a
// wallet is queried (approved, declined) or else cancelled (reversal
// pending, then reversed). A reversal the host never acknowledges is
// resolved by hand by a supervisor, with the reason journaled. An approved
// sale may later be voided, partly refunded or refunded. Settlement is not
// a state of a record but of its batch (Settlement): a closed batch's
// records keep the states they had.
const (
	StateCreated State = "created"
	// StateSent is kept for records an earlier release marked sent as
	// their request left; it is pending like created, and this release
	// writes it no more: a created record may have been sent all the same.
	StateSent            State = "sent"
	StateApproved        State = "approved"
	StateDeclined        State = "declined"
	StateInProgress      State = "in_progress"
	StateUnknown         State = "unknown"
	StateNotSent         State = "not_sent"
	StateReversalPending State = "reversal_pending"
	StateReversed        State = "reversed"
	StateResolvedByHand  State = "resolved_by_hand"
	StateVoided          State = "voided"
	StatePartlyRefunded  State = "partly_refunded"
	StateRefunded        State = "refunded"
)

// transitions is the one table every write goes through: the states a
// record in a given state may move to. A state not in the table is
// unknown to this release and may not move at all.
var transitions = map[State][]State{
	StateCreated:         {StateSent, StateApproved, StateDeclined, StateInProgress, StateUnknown, StateNotSent, StateReversalPending},
	StateSent:            {StateApproved, StateDeclined, StateInProgress, StateUnknown, StateNotSent, StateReversalPending},
	StateInProgress:      {StateInProgress, StateApproved, StateDeclined, StateUnknown, StateReversalPending},
	StateUnknown:         {StateUnknown, StateApproved, StateDeclined, StateReversalPending},
	StateReversalPending: {StateReversalPending, StateReversed, StateResolvedByHand},
	StateApproved:        {StateVoided, StatePartlyRefunded, StateRefunded},
	StatePartlyRefunded:  {StatePartlyRefunded, StateRefunded},
	StateRefunded:        nil,
	StateVoided:          nil,
	StateDeclined:        nil,
	StateNotSent:         nil,
	StateReversed:        nil,
	StateResolvedByHand:  nil,
}

// CanMove reports whether the transition table lets a record in state s
// move to state to.
func (s State) CanMove(to State) bool { return slices.Contains(transitions[s], to) }

// Known reports whether s is a state this release knows.
func (s State) Known() bool {
	_, ok := transitions[s]
	return ok
}

// Pending reports whether a record in state s may be booked at the host
// without the terminal knowing its outcome: it must be resolved before its
// channel takes another online operation. A state this release does not
// know counts as pending (fail safe: never as declined).
func (s State) Pending() bool {
	switch s {
	case StateCreated, StateSent, StateInProgress, StateUnknown, StateReversalPending:
		return true
	case StateApproved, StateDeclined, StateNotSent, StateReversed, StateResolvedByHand,
		StateVoided, StatePartlyRefunded, StateRefunded:
		return false
	}
	return true
}

// Outcome is what a front end or a flow is told of a record in state s.
type Outcome string

// Outcomes.
const (
	OutcomeApproved Outcome = "approved"
	OutcomeDeclined Outcome = "declined"
	OutcomeFailed   Outcome = "failed"   // nothing left the terminal; nothing was charged
	OutcomeReversed Outcome = "reversed" // no answer; reversed or cancelled, not charged
	OutcomeUnknown  Outcome = "unknown"  // being resolved: do not charge again
)

// Outcome maps s to what a cashier or a cash register is told. Every state
// this switch does not name (one a later release added) falls back to
// unknown: never to declined.
func (s State) Outcome() Outcome {
	switch s {
	case StateApproved, StateVoided, StatePartlyRefunded, StateRefunded:
		return OutcomeApproved
	case StateDeclined:
		return OutcomeDeclined
	case StateNotSent:
		return OutcomeFailed
	case StateReversed:
		return OutcomeReversed
	}
	return OutcomeUnknown
}

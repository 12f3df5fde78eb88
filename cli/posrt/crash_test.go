package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/plugins/channels"
	channelsfake "github.com/posrt/posrt/plugins/channels/fake"
	"github.com/posrt/posrt/plugins/channels/walletfake"
	"github.com/posrt/posrt/runtime/crashpoint"
	"github.com/posrt/posrt/runtime/journal"
	"github.com/posrt/posrt/runtime/runtimetest"
)

// The crash suite: posrt is killed with SIGKILL at every named point of
// every operation (crashpoint.Points) and at random moments while
// operations stream to hosts that answer slowly, 200 runs on one data
// directory; each run's process is the restart of the one before. Then the
// fake hosts' ledgers are the truth the journal is held to.

const (
	crashRuns     = 200
	crashRounds   = 4 // rounds of every (operation, point) pair; the rest are random kills
	crashDeadline = 6 * time.Minute
	crashTID      = "12345678"
	crashMID      = "898310048990001"
	perClass      = 400 // amounts reserved for each class of operation
)

// opKind is what a run asks posrt to do.
type opKind string

const (
	opCardSale       opKind = "card-sale"
	opCardDeclined   opKind = "card-declined"
	opCardLost       opKind = "card-lost"     // booked, answer lost: reversed
	opCardBadMAC     opKind = "card-bad-mac"  // booked, answer's MAC corrupt: reversed
	opCardVoid       opKind = "card-void"     // of an approved card sale
	opCardRefund     opKind = "card-refund"   // part of an approved card sale
	opCardRefundLost opKind = "card-refund-l" // booked, answer lost: queried
	opWalletSale     opKind = "wallet-sale"
	opWalletDeclined opKind = "wallet-declined"
	opWalletPaying   opKind = "wallet-paying" // user paying, pays after 2 queries
	opWalletNever    opKind = "wallet-never"  // user paying, never pays: cancelled
	opWalletLost     opKind = "wallet-lost"   // paid, answer lost: queried
	opWalletRefund   opKind = "wallet-refund"
	opWalletVoid     opKind = "wallet-void" // a cancel of an approved wallet sale
	opCash           opKind = "cash"
)

// namedPairs are the (operation, point) pairs where the operation reaches
// the point itself (not only in a later recovery).
var namedPairs = []struct {
	op    opKind
	point string
}{
	{opCardSale, crashpoint.Intent}, {opCardSale, crashpoint.Answered}, {opCardSale, crashpoint.Outcome},
	{opCardLost, crashpoint.Answered}, {opCardLost, crashpoint.Outcome}, {opCardLost, crashpoint.Reversal},
	{opCardDeclined, crashpoint.Answered}, {opCardDeclined, crashpoint.Outcome},
	{opCardBadMAC, crashpoint.Reversal},
	{opCardVoid, crashpoint.Intent}, {opCardVoid, crashpoint.Answered}, {opCardVoid, crashpoint.Outcome},
	{opCardRefund, crashpoint.Intent}, {opCardRefund, crashpoint.Answered}, {opCardRefund, crashpoint.Outcome},
	{opCardRefundLost, crashpoint.Outcome},
	{opWalletSale, crashpoint.Intent}, {opWalletSale, crashpoint.Answered}, {opWalletSale, crashpoint.Outcome},
	{opWalletPaying, crashpoint.Poll}, {opWalletPaying, crashpoint.Outcome},
	{opWalletNever, crashpoint.Poll}, {opWalletNever, crashpoint.Reversal},
	{opWalletLost, crashpoint.Answered}, {opWalletLost, crashpoint.Outcome},
	{opWalletRefund, crashpoint.Intent}, {opWalletRefund, crashpoint.Answered}, {opWalletRefund, crashpoint.Outcome},
	{opWalletVoid, crashpoint.Intent}, {opWalletVoid, crashpoint.Answered}, {opWalletVoid, crashpoint.Outcome},
	{opCash, crashpoint.Intent}, {opCash, crashpoint.Outcome},
}

// amount classes: each operation's amount is unique in the whole suite, so
// that the host's ledger alone shows a customer charged twice.
const (
	clsSale = iota
	clsDeclined
	clsLost
	clsBadMAC
	clsWallet
	clsWalletDeclined
	clsWalletPaying
	clsWalletLost
	clsCash
	clsRefund
	clsRefundLost
	clsWalletRefund
	nClasses
)

// amountOf is the k-th amount of class c: sales from 1000.01 yuan, ending
// in 01 (51 for the declined classes, which both fakes decline with 51);
// refunds even amounts below 100 yuan.
func amountOf(c, k int) int64 {
	if c >= clsRefund {
		return 1000 + int64(k*nClasses+c)*2
	}
	tail := int64(1)
	if c == clsDeclined || c == clsWalletDeclined {
		tail = 51
	}
	return 100000 + int64(k*nClasses+c)*100 + tail
}

func amountList(classes ...int) string {
	var out []string
	for _, c := range classes {
		for k := range perClass {
			out = append(out, strconv.FormatInt(amountOf(c, k), 10))
		}
	}
	return strings.Join(out, ",")
}

// profile variants: the wallet's paying customers pay after two queries,
// or never; slow hosts for the random kills.
type variant string

const (
	varPaying variant = "paying"
	varNever  variant = "never"
	varSlow   variant = "slow"
)

// writeCrashProfile writes a four-plugin posrt.toml (PIN pad, printer,
// acquirer, WeChat Pay) with short resolution waits.
func writeCrashProfile(t *testing.T, v variant) string {
	t.Helper()
	payingFor, acqLatency, walletLatency := "2", "0s", "0s"
	switch v {
	case varNever:
		payingFor = "never"
	case varSlow:
		acqLatency, walletLatency = "120ms", "80ms"
	}
	cfg := fmt.Sprintf(`[terminal]
tid = %q
mid = %q
merchant_name = "POSRT CRASH SUITE"

[resolve]
reversal_attempts = 3
retry_backoff = "20ms"
max_backoff = "100ms"
wallet_poll_every = "50ms"
wallet_poll_for = "400ms"

[[plugin]]
name = "pinpad"
kind = "pinpad"
builtin = "fake-pinpad"

[[plugin]]
name = "printer"
kind = "printer"
builtin = "fake-printer"
[plugin.config]
output = "{data}/receipts.txt"

[[plugin]]
name = "acquirer"
kind = "acquirer"
builtin = "fake-acquirer"
[plugin.config]
ledger = "{data}/fake-acquirer-ledger.jsonl"
lose_response = %q
bad_mac = %q
latency = %q

[[plugin]]
name = "wechat"
kind = "wallet"
medium = "wechat"
builtin = "fake-wechat"
[plugin.config]
ledger = "{data}/fake-wechat-ledger.jsonl"
user_paying = %q
user_paying_for = %q
lose_response = %q
latency = %q
`, crashTID, crashMID, amountList(clsLost, clsRefundLost), amountList(clsBadMAC), acqLatency,
		amountList(clsWalletPaying), payingFor, amountList(clsWalletLost), walletLatency)
	path := filepath.Join(t.TempDir(), "posrt-"+string(v)+".toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sentOp is one request sent to posrt.
type sentOp struct {
	run    int
	op     opKind
	rid    string
	body   string
	amount int64
	medium journal.Medium
	path   string
	answer string // the result the cash register was told; empty: no answer
	resend bool   // the same request sent again after a crash
}

// crashSuite is the state of one suite run.
type crashSuite struct {
	t        *testing.T
	bin      string
	data     string
	profiles map[variant]string
	rng      *rand.Rand
	deadline time.Time

	next    [nClasses]int
	codes   int
	sent    []*sentOp
	history []string
	// unanswered is the last request a crash left without an answer.
	unanswered *sentOp
	resends    int

	// counts
	named, diedAtPoint, diedAtBoot, survived map[string]int
	random, randomOps                        int
}

func (s *crashSuite) amount(c int) int64 {
	if s.next[c] >= perClass {
		s.t.Fatalf("amount class %d ran out of its %d amounts", c, perClass)
	}
	a := amountOf(c, s.next[c])
	s.next[c]++
	return a
}

// paymentCode returns a fresh WeChat payment code: "13" and 16 digits.
func (s *crashSuite) paymentCode() string {
	s.codes++
	return fmt.Sprintf("13%016d", 4200000000000000+s.codes)
}

func (s *crashSuite) logf(format string, args ...any) {
	s.history = append(s.history, fmt.Sprintf(format, args...))
}

func (s *crashSuite) checkDeadline() {
	if time.Now().After(s.deadline) {
		s.t.Fatalf("crash suite past its %v deadline after %d runs", crashDeadline, len(s.history))
	}
}

// start launches posrt on the suite's data directory, armed at point
// (empty: not armed), and waits until it is signed in with nothing
// pending. It returns nil if the process died first (a crash point
// reached while recovering at boot).
func (s *crashSuite) start(v variant, point string) *runtimetest.Process {
	s.t.Helper()
	s.waitPluginsGone()
	var env []string
	if point != "" {
		env = append(env, crashpoint.EnvVar+"="+point)
	}
	p, err := runtimetest.Launch(s.t, s.bin, env, "run", "--headless", "--data-dir", s.data, "--ecr-addr", "127.0.0.1:0", "--config", s.profiles[v])
	if err != nil {
		if p != nil && p.Exited() && p.Killed() && point != "" {
			return nil
		}
		s.fail(p, "starting posrt (armed at %q): %v", point, err)
	}
	until := time.Now().Add(30 * time.Second)
	for {
		if p.Exited() {
			if p.Killed() && point != "" {
				return nil
			}
			s.fail(p, "posrt (armed at %q) exited while starting", point)
		}
		if st, ok := crashStatus(p); ok && st.SignedIn && st.Pending == 0 && len(st.Plugins) == 4 {
			idle := true
			for _, pl := range st.Plugins {
				idle = idle && pl.Health == "idle" && pl.PID != 0
			}
			if idle {
				return p
			}
		}
		if time.Now().After(until) {
			st, _ := crashStatus(p)
			s.fail(p, "posrt not signed in with nothing pending 30s after its start (unresolved records?): status %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *crashSuite) fail(p *runtimetest.Process, format string, args ...any) {
	s.t.Helper()
	if p != nil {
		if !p.Exited() {
			p.Kill()
		}
		s.t.Logf("last posrt log:\n%s", p.Logs.String())
	}
	s.t.Logf("runs so far:\n%s", strings.Join(s.history, "\n"))
	s.t.Fatalf(format, args...)
}

func crashStatus(p *runtimetest.Process) (statusBody, bool) {
	return (&proc{p.Posrt}).status(nil)
}

// waitPluginsGone waits until no plugin of this suite's binary runs: a
// plugin of a killed posrt dies with it (Pdeathsig), and two fake hosts
// must never append to one ledger.
func (s *crashSuite) waitPluginsGone() {
	s.t.Helper()
	until := time.Now().Add(5 * time.Second)
	for livePlugins(s.bin) > 0 {
		if time.Now().After(until) {
			s.t.Fatalf("plugins of a killed posrt still run 5s later")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func livePlugins(bin string) int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	n := 0
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !strings.HasPrefix(string(cmdline), bin+"\x00plugin\x00serve\x00") {
			continue
		}
		var pid int
		fmt.Sscanf(filepath.Base(filepath.Dir(p)), "%d", &pid)
		if !gone(pid) {
			n++
		}
	}
	return n
}

// send posts op's request; false means posrt died before it answered.
func (s *crashSuite) send(p *runtimetest.Process, run int, op opKind) (*sentOp, bool) {
	o := &sentOp{run: run, op: op, rid: fmt.Sprintf("crash-%03d-%d", run, len(s.sent)), medium: journal.MediumCard}
	path := "/v1/sale"
	switch op {
	case opCardSale, opCardDeclined, opCardLost, opCardBadMAC:
		o.amount = s.amount(map[opKind]int{opCardSale: clsSale, opCardDeclined: clsDeclined, opCardLost: clsLost, opCardBadMAC: clsBadMAC}[op])
		o.body = fmt.Sprintf(`{"amount": %d, "request_id": %q}`, o.amount, o.rid)
	case opWalletSale, opWalletDeclined, opWalletPaying, opWalletNever, opWalletLost:
		c := map[opKind]int{opWalletSale: clsWallet, opWalletDeclined: clsWalletDeclined, opWalletPaying: clsWalletPaying, opWalletNever: clsWalletPaying, opWalletLost: clsWalletLost}[op]
		o.amount, o.medium = s.amount(c), journal.MediumWeChat
		o.body = fmt.Sprintf(`{"amount": %d, "request_id": %q, "auth_code": %q}`, o.amount, o.rid, s.paymentCode())
	case opCash:
		path, o.amount, o.medium = "/v1/cash", s.amount(clsCash), journal.MediumCash
		o.body = fmt.Sprintf(`{"amount": %d, "request_id": %q}`, o.amount, o.rid)
	case opCardVoid, opCardRefund, opCardRefundLost, opWalletVoid, opWalletRefund:
		medium := journal.MediumCard
		if op == opWalletVoid || op == opWalletRefund {
			medium = journal.MediumWeChat
		}
		void := op == opCardVoid || op == opWalletVoid
		trace, ok := s.original(p, medium, void)
		if !ok { // no approved sale to void or refund yet: a sale instead
			if medium == journal.MediumCard {
				return s.send(p, run, opCardSale)
			}
			return s.send(p, run, opWalletSale)
		}
		o.medium = medium
		if void {
			path = "/v1/void"
			o.body = fmt.Sprintf(`{"trace": %q, "request_id": %q}`, trace, o.rid)
			break
		}
		path = "/v1/refund"
		o.amount = s.amount(map[opKind]int{opCardRefund: clsRefund, opCardRefundLost: clsRefundLost, opWalletRefund: clsWalletRefund}[op])
		o.body = fmt.Sprintf(`{"trace": %q, "amount": %d, "request_id": %q, "supervisor_password": "123456"}`, trace, o.amount, o.rid)
	default:
		s.t.Fatalf("unknown operation %s", op)
	}
	o.path = path
	s.sent = append(s.sent, o)
	return o, s.post(p, o)
}

// post sends o's request and keeps the answer; false means posrt died
// before it answered.
func (s *crashSuite) post(p *runtimetest.Process, o *sentOp) bool {
	resp, err := p.Do(http.MethodPost, o.path, o.body)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return false
	}
	var out struct {
		Result string `json:"result"`
		Error  *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &out) != nil {
		o.answer = "unparsable: " + string(b) // reported by reconcile
		return true
	}
	o.answer = out.Result
	if out.Error != nil {
		o.answer = "refused:" + out.Error.Code
	}
	return true
}

// resend sends again, as a cash register that got no answer does, the
// request a crash left unanswered (every other time): posrt answers what
// the first became and charges nothing more. False means posrt died.
func (s *crashSuite) resend(p *runtimetest.Process, run int) bool {
	o := s.unanswered
	s.unanswered = nil
	if o == nil || s.rng.IntN(2) == 0 {
		return true
	}
	again := *o
	again.run, again.resend, again.answer = run, true, ""
	s.sent = append(s.sent, &again)
	s.resends++
	if !s.post(p, &again) {
		s.unanswered = o
		return false
	}
	return true
}

// original finds the trace of a recent sale of medium that may still be
// voided (approved) or refunded (approved or partly refunded), asking
// posrt for what each earlier request became.
func (s *crashSuite) original(p *runtimetest.Process, medium journal.Medium, void bool) (string, bool) {
	tried := 0
	for i := len(s.sent) - 1; i >= 0 && tried < 12; i-- {
		o := s.sent[i]
		if o.medium != medium || !strings.Contains(string(o.op), "sale") && o.op != opWalletPaying && o.op != opWalletLost {
			continue
		}
		tried++
		resp, err := p.Do(http.MethodGet, "/v1/transactions/"+o.rid, "")
		if err != nil {
			return "", false
		}
		var res struct {
			Kind  string `json:"kind"`
			State string `json:"state"`
			Trace string `json:"trace"`
		}
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || res.Kind != "sale" {
			continue
		}
		if res.State == string(journal.StateApproved) || !void && res.State == string(journal.StatePartlyRefunded) {
			return res.Trace, true
		}
	}
	return "", false
}

// namedRun starts posrt armed at point and runs op, which reaches it.
func (s *crashSuite) namedRun(run int, op opKind, point string) {
	v := varPaying
	if op == opWalletNever {
		v = varNever
	}
	s.named[point]++
	p := s.start(v, point)
	if p == nil {
		s.diedAtBoot[point]++
		s.logf("run %3d %-16s at %-13s: died recovering at boot", run, op, point)
		return
	}
	if !s.resend(p, run) {
		s.diedAtBoot[point]++ // before its own operation, like a death at boot
		s.logf("run %3d %-16s at %-13s: died on the resent request %s", run, op, point, s.unanswered.rid)
		return
	}
	o, answered := s.send(p, run, op)
	if !answered {
		s.unanswered = o
	}
	if answered {
		// The point was not reached by the operation itself.
		select {
		case <-p.Done:
		case <-time.After(100 * time.Millisecond):
			p.Kill()
			s.survived[point]++
			s.logf("run %3d %-16s at %-13s: not reached (answer %q), killed", run, o.op, point, o.answer)
			return
		}
	}
	select {
	case <-p.Done:
	case <-time.After(20 * time.Second):
		s.fail(p, "run %d: posrt armed at %s neither answered nor died", run, point)
	}
	if !p.Killed() {
		s.fail(p, "run %d: posrt armed at %s exited without SIGKILL", run, point)
	}
	s.diedAtPoint[point]++
	s.logf("run %3d %-16s at %-13s: died (rid %s)", run, o.op, point, o.rid)
}

var randomOps = []opKind{
	opCardSale, opCardSale, opCardSale, opCardDeclined, opCardLost, opCardRefund, opCardVoid,
	opWalletSale, opWalletSale, opWalletPaying, opWalletLost, opWalletRefund, opCash,
}

// randomRun starts posrt with slow hosts, streams operations and kills it
// at a random moment, most often while a request is at a host.
func (s *crashSuite) randomRun(run int) {
	p := s.start(varSlow, "")
	delay := time.Duration(20+s.rng.IntN(1200)) * time.Millisecond
	ops := make([]opKind, 40)
	for i := range ops {
		ops[i] = randomOps[s.rng.IntN(len(randomOps))]
	}
	done := make(chan int)
	go func() {
		n := 0
		if !s.resend(p, run) {
			done <- n
			return
		}
		for _, op := range ops {
			o, ok := s.send(p, run, op)
			if !ok {
				s.unanswered = o
				break
			}
			n++
		}
		done <- n
	}()
	time.Sleep(delay)
	p.Kill()
	n := <-done
	s.random++
	s.randomOps += n + 1
	s.logf("run %3d random: killed after %v, %d operations answered", run, delay, n)
}

func TestCrashSuite(t *testing.T) {
	bin := posrtBinary(t)
	started := time.Now()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("POSRT_CRASH_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	s := &crashSuite{
		t: t, bin: bin, data: t.TempDir(), rng: rand.New(rand.NewPCG(seed, 0x5eed)),
		deadline: started.Add(crashDeadline),
		profiles: map[variant]string{},
		named:    map[string]int{}, diedAtPoint: map[string]int{}, diedAtBoot: map[string]int{}, survived: map[string]int{},
	}
	for _, v := range []variant{varPaying, varNever, varSlow} {
		s.profiles[v] = writeCrashProfile(t, v)
	}
	// The run plan: every pair crashRounds times and the random kills,
	// shuffled, after two plain sales that give voids and refunds their
	// originals.
	type planned struct {
		op    opKind
		point string // empty: a random kill
	}
	var plan []planned
	for range crashRounds {
		for _, pr := range namedPairs {
			plan = append(plan, planned{pr.op, pr.point})
		}
	}
	for len(plan) < crashRuns-2 {
		plan = append(plan, planned{})
	}
	s.rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	plan = append([]planned{{opCardSale, crashpoint.Outcome}, {opWalletSale, crashpoint.Outcome}}, plan...)

	for i, r := range plan {
		s.checkDeadline()
		if r.point == "" {
			s.randomRun(i)
		} else {
			s.namedRun(i, r.op, r.point)
		}
	}

	// A clean posrt resolves whatever the last run left, then stops.
	p := s.start(varPaying, "")
	if err := p.Stop(30 * time.Second); err != nil {
		s.fail(p, "the clean posrt did not stop: %v", err)
	}
	s.waitPluginsGone()
	rep := s.reconcile()
	elapsed := time.Since(started).Round(time.Second)

	var points []string
	for _, pt := range crashpoint.Points {
		points = append(points, fmt.Sprintf("%d at %s", s.named[pt], pt))
	}
	died, boot, surv := 0, 0, 0
	for _, pt := range crashpoint.Points {
		died, boot, surv = died+s.diedAtPoint[pt], boot+s.diedAtBoot[pt], surv+s.survived[pt]
	}
	// One line on stdout: shown by go test -v, by `go test` run in this
	// directory, and with a failure; POSRT_CRASH_SEED replays a run plan.
	fmt.Printf("crash suite (seed %d): %d runs (%s, %d random kills) in %v; armed runs: %d died at their point, %d at boot recovery, %d not reached; "+
		"%d requests sent (%d resent after a crash); host: %d card approvals (%d reversed), %d wallet payments (%d cancelled), %d refunds; journal: %d records, %d reversed; "+
		"%d double charges, %d unresolved, %d mismatches\n",
		seed, len(plan), strings.Join(points, ", "), s.random, elapsed, died, boot, surv,
		len(s.sent), s.resends, rep.cardApprovals, rep.cardReversed, rep.walletPaid, rep.walletCancelled, rep.refunds, rep.records, rep.reversed,
		rep.doubleCharges, rep.unresolved, rep.mismatches)
	if t.Failed() {
		t.Logf("runs:\n%s", strings.Join(s.history, "\n"))
	}
	if died < crashRounds*len(namedPairs)*3/4 {
		t.Errorf("only %d armed runs died at their crash point: the suite crashes too little to prove anything", died)
	}
	if rep.cardReversed == 0 || rep.walletCancelled == 0 || rep.cardApprovals == 0 || rep.walletPaid == 0 || rep.refunds == 0 {
		t.Errorf("the suite did not exercise every outcome: %+v", rep)
	}
}

type crashReport struct {
	cardApprovals, cardReversed, walletPaid, walletCancelled, refunds int
	records, reversed, doubleCharges, unresolved, mismatches          int
}

var approvedFamily = []journal.State{journal.StateApproved, journal.StateVoided, journal.StatePartlyRefunded, journal.StateRefunded}

// reconcile holds the journal to the fake hosts' ledgers.
func (s *crashSuite) reconcile() crashReport {
	t := s.t
	var rep crashReport
	mismatch := func(format string, args ...any) {
		t.Helper()
		rep.mismatches++
		if rep.mismatches <= 30 {
			t.Errorf(format, args...)
		}
	}
	j, err := journal.Open(filepath.Join(s.data, "journal"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	recs, err := j.List()
	if err != nil {
		t.Fatal(err)
	}
	rep.records = len(recs)
	byKey := map[journal.Key]journal.Record{}
	for _, r := range recs {
		if r.TID != crashTID {
			mismatch("record %s has TID %s", r.Key(), r.TID)
		}
		byKey[r.Key()] = r
		if r.State.Pending() {
			rep.unresolved++
			mismatch("record %s (%s %s %d fen) is still %s", r.Key(), r.Medium, r.Kind, r.Amount, r.State)
		}
		if r.State == journal.StateReversed {
			rep.reversed++
		}
	}
	// Traces never repeat and strictly increase in creation order, across
	// every restart.
	sorted := slices.Clone(recs)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].CreatedAt.Before(sorted[b].CreatedAt) })
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		if a.Batch+a.Trace >= b.Batch+b.Trace {
			mismatch("trace %s/%s (created %v) follows %s/%s (created %v): counters repeat or go back", b.Batch, b.Trace, b.CreatedAt, a.Batch, a.Trace, a.CreatedAt)
		}
	}
	key := func(batch, trace string) journal.Key { return journal.Key{TID: crashTID, Batch: batch, Trace: trace} }

	// The acquirer.
	ledger, err := channelsfake.ReadLedger(filepath.Join(s.data, "fake-acquirer-ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	chargedByAmount := map[int64]int{}
	chargedByRID := map[string]int{}
	hostCard := map[journal.Key]channelsfake.Entry{}
	lastTrace := ""
	for _, e := range ledger {
		switch e.Op {
		case channelsfake.OpSale, channelsfake.OpVoid:
			// Not refunds: one journaled before a crash is sent at the
			// next start, after that start's sign-in.
			if e.Batch+e.Trace <= lastTrace {
				mismatch("host ledger: %s with trace %s/%s after %s: a trace sent twice or going back", e.Op, e.Batch, e.Trace, lastTrace)
			}
			lastTrace = e.Batch + e.Trace
		}
		if e.Op != channelsfake.OpSale && e.Op != channelsfake.OpVoid && e.Op != channelsfake.OpRefund {
			continue
		}
		k := key(e.Batch, e.Trace)
		hostCard[k] = e
		charged := e.Approved() && !e.Reversed
		r, ok := byKey[k]
		if !ok {
			mismatch("host booked %s %s of %d fen (code %s) that the journal has no record of", e.Op, k, e.Amount, e.Code)
			continue
		}
		if string(r.Kind) != e.Op || r.Medium != journal.MediumCard || int64(r.Amount) != e.Amount {
			mismatch("host booked %s %s of %d fen; the journal has %s %s of %d fen", e.Op, k, e.Amount, r.Medium, r.Kind, r.Amount)
		}
		if e.Op == channelsfake.OpSale && e.Approved() {
			rep.cardApprovals++
			if e.Reversed {
				rep.cardReversed++
			}
		}
		if e.Op == channelsfake.OpRefund && charged {
			rep.refunds++
		}
		if charged {
			if e.Op == channelsfake.OpSale {
				chargedByAmount[e.Amount]++
				chargedByRID[r.RequestID]++
			}
			if !slices.Contains(approvedFamily, r.State) {
				mismatch("host holds %s %s of %d fen approved and unreversed; the journal says %s", e.Op, k, e.Amount, r.State)
			}
			if e.Op == channelsfake.OpSale {
				if e.Voided != (r.State == journal.StateVoided) {
					mismatch("sale %s: host voided %v, journal state %s", k, e.Voided, r.State)
				}
				if e.Refunded != int64(r.Refunded) {
					mismatch("sale %s: host refunded %d fen, journal %d fen", k, e.Refunded, r.Refunded)
				}
			}
		} else if slices.Contains(approvedFamily, r.State) {
			mismatch("journal has %s %s %s; the host's booking is code %s reversed %v", r.Kind, k, r.State, e.Code, e.Reversed)
		}
	}

	// The wallet.
	wledger, err := walletfake.ReadLedger(filepath.Join(s.data, "fake-wechat-ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	type order struct {
		amount   int64
		state    channels.TradeState
		refunded int64
		seen     bool
	}
	orders := map[string]*order{}
	refundsByNo := map[string]walletfake.Entry{}
	lastOrder := ""
	for _, e := range wledger {
		o := orders[e.OrderNo]
		switch e.Op {
		case walletfake.OpPay:
			if e.OrderNo <= lastOrder {
				mismatch("wallet ledger: order %s after %s: an order number sent twice or going back", e.OrderNo, lastOrder)
			}
			lastOrder = e.OrderNo
			orders[e.OrderNo] = &order{amount: e.Amount, state: e.State, seen: true}
		case walletfake.OpPaid:
			o.state = channels.TradeSuccess
		case walletfake.OpCancel:
			if o == nil {
				orders[e.OrderNo] = &order{state: e.State}
			} else {
				o.state = e.State
			}
		case walletfake.OpRefund:
			o.refunded += e.Amount
			refundsByNo[e.RefundNo] = e
			rep.refunds++
		}
	}
	walletSales := map[string]journal.Record{}
	for _, r := range recs {
		if r.Medium == journal.MediumWeChat && r.Kind == journal.KindSale {
			walletSales[channels.Key{TID: r.TID, MID: r.MID, Batch: r.Batch, Trace: r.Trace}.OrderNo()] = r
		}
	}
	for no, o := range orders {
		r, ok := walletSales[no]
		if !ok {
			if o.seen {
				mismatch("wallet booked order %s of %d fen (%s) that the journal has no record of", no, o.amount, o.state)
			}
			continue
		}
		if !o.seen {
			if slices.Contains(approvedFamily, r.State) {
				mismatch("journal has wallet sale %s %s; the wallet only closed its order number", r.Key(), r.State)
			}
			continue
		}
		if int64(r.Amount) != o.amount {
			mismatch("wallet order %s is %d fen, its journal sale %d fen", no, o.amount, r.Amount)
		}
		switch o.state {
		case channels.TradeSuccess:
			rep.walletPaid++
			chargedByAmount[o.amount]++
			chargedByRID[r.RequestID]++
			if r.State != journal.StateApproved && r.State != journal.StatePartlyRefunded && r.State != journal.StateRefunded {
				mismatch("wallet order %s of %d fen is paid; the journal says %s", no, o.amount, r.State)
			}
			if o.refunded != int64(r.Refunded) {
				mismatch("wallet order %s: wallet refunded %d fen, journal %d fen", no, o.refunded, r.Refunded)
			}
		case channels.TradeRevoked, channels.TradeClosed:
			rep.walletCancelled++
			if r.State != journal.StateReversed && r.State != journal.StateVoided {
				mismatch("wallet order %s of %d fen was cancelled; the journal says %s", no, o.amount, r.State)
			}
		case channels.TradeUserPaying:
			// Neither paid nor cancelled: the customer could still pay
			// for a sale the terminal has closed.
			rep.unresolved++
			mismatch("wallet order %s of %d fen is left open (user paying); the journal says %s", no, o.amount, r.State)
		default:
			if slices.Contains(approvedFamily, r.State) {
				mismatch("wallet order %s of %d fen is %s; the journal says %s", no, o.amount, o.state, r.State)
			}
		}
	}
	for no, r := range walletSales {
		if _, ok := orders[no]; !ok && slices.Contains(approvedFamily, r.State) {
			mismatch("journal has wallet sale %s %s; the wallet never saw order %s", r.Key(), r.State, no)
		}
	}

	// Voids and refunds in the journal against the hosts.
	for _, r := range recs {
		if r.Kind != journal.KindVoid && r.Kind != journal.KindRefund {
			continue
		}
		ok := r.State == journal.StateApproved
		switch r.Medium {
		case journal.MediumCard:
			e, booked := hostCard[r.Key()]
			if ok && (!booked || !e.Approved() || e.Reversed || e.Amount != int64(r.Amount)) {
				mismatch("journal has card %s %s of %d fen approved; the host has %+v (booked %v)", r.Kind, r.Key(), r.Amount, e, booked)
			}
		case journal.MediumWeChat:
			orig := byKey[*r.Original]
			origNo := channels.Key{TID: orig.TID, MID: orig.MID, Batch: orig.Batch, Trace: orig.Trace}.OrderNo()
			if r.Kind == journal.KindRefund {
				e, booked := refundsByNo[r.RefundNo]
				if ok != booked || booked && (e.Amount != int64(r.Amount) || e.OrderNo != origNo) {
					mismatch("journal has wallet refund %s (%s, %d fen, %s); the wallet has %+v (booked %v)", r.Key(), r.RefundNo, r.Amount, r.State, e, booked)
				}
			} else if o := orders[origNo]; ok && (o == nil || o.state != channels.TradeRevoked && o.state != channels.TradeClosed) {
				mismatch("journal has wallet void %s approved; the wallet's order %s is %+v", r.Key(), origNo, o)
			}
		}
	}

	// Nothing charged twice: one charge per amount (every intent has its
	// own) and per request.
	for a, n := range chargedByAmount {
		if n > 1 {
			rep.doubleCharges += n - 1
			mismatch("%d fen charged %d times", a, n)
		}
	}
	for rid, n := range chargedByRID {
		if n > 1 {
			rep.doubleCharges += n - 1
			mismatch("request %s charged %d times", rid, n)
		}
	}
	// What the cash register was told holds.
	for _, o := range s.sent {
		if strings.HasPrefix(o.answer, "unparsable") {
			mismatch("request %s (%s) was answered %s", o.rid, o.op, o.answer)
		}
		r, err := j.ByRequestID(o.rid)
		if err != nil {
			continue
		}
		if o.answer == "approved" && !slices.Contains(approvedFamily, r.State) {
			mismatch("request %s (%s) was answered approved; its record is %s", o.rid, o.op, r.State)
		}
		if (o.answer == "declined" || o.answer == "reversed" || o.answer == "failed") && slices.Contains(approvedFamily, r.State) {
			mismatch("request %s (%s) was answered %s; its record is %s", o.rid, o.op, o.answer, r.State)
		}
	}
	return rep
}

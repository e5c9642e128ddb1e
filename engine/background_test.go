// Tests of the guarantees of background requests (background.go, bgtransfer.go) against
// real local servers, some of them hostile: every accepted request has exactly one
// result whatever ends it; the queue refuses instead of blocking; timeouts fire without
// any socket activity; max_total and max_host hold as the servers see them; connections
// never mix TLS identities; cancel and shutdown keep the contract; the readiness
// descriptor is readable exactly while results wait; timings are consistent. Every wait
// is bounded, so that a hang fails the test instead of blocking it.

package engine

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------------
// Helpers: hostile servers, engines, result checks, resource counts.

// bgtMode is what a bgtServer does with each request.
type bgtMode int

const (
	bgtOK        bgtMode = iota // 200 with a body, keep-alive
	bgtClose                    // read the request, close without answering
	bgtStall                    // read the request, never answer (until the client closes)
	bgtReset                    // answer the head and part of the body, then reset (SO_LINGER 0)
	bgtStallBody                // answer the head and part of the body, then nothing more
)

const bgtBody = "hello from the background test server"

// bgtServer is a raw HTTP/1.1 server on 127.0.0.1 with one behaviour. It tracks its
// connections so that close() ends them all and waits for its goroutines.
type bgtServer struct {
	*trackedServer
	mode  bgtMode
	delay atomic.Int64 // bgtOK: wait this long (a time.Duration) before answering; set at any time

	accepted atomic.Int64 // connections accepted
	requests atomic.Int64 // request heads read
	open     atomic.Int64 // connections open now (server side)
}

func newBgtServer(t *testing.T, mode bgtMode) *bgtServer {
	t.Helper()
	s := &bgtServer{mode: mode}
	s.trackedServer = startTrackedServer(t, s.handle)
	return s
}

func (s *bgtServer) url(path string) string { return "http://" + s.ln.Addr().String() + path }

func (s *bgtServer) handle(c net.Conn) {
	s.accepted.Add(1)
	s.open.Add(1)
	defer s.open.Add(-1)
	br := bufio.NewReader(c)
	for {
		if err := bgtReadRequest(br); err != nil {
			c.Close()
			return
		}
		s.requests.Add(1)
		switch s.mode {
		case bgtOK:
			if d := time.Duration(s.delay.Load()); d > 0 {
				time.Sleep(d)
			}
			if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(bgtBody))+"\r\n\r\n"+bgtBody); err != nil {
				c.Close()
				return
			}
		case bgtClose:
			c.Close()
			return
		case bgtStall:
			_, _ = io.Copy(io.Discard, br) // until the client goes away
			c.Close()
			return
		case bgtStallBody:
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
			_, _ = io.Copy(io.Discard, br)
			c.Close()
			return
		case bgtReset:
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			c.Close()
			return
		}
	}
}

// bgtReadRequest reads one request head (and a Content-Length body).
func bgtReadRequest(br *bufio.Reader) error {
	n := 0
	for first := true; ; first = false {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if first {
				continue
			}
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	_, err := io.CopyN(io.Discard, br, int64(n))
	return err
}

// bgtEngine builds an engine from settings text, the way the library does.
func bgtEngine(t *testing.T, settings string) *Engine {
	t.Helper()
	cfg, err := ParseSettings(settings)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bgtShutdown(t, e, 0); e.Close() })
	return e
}

// bgtShutdown runs e.Shutdown(grace) and fails the test if it has not returned within
// grace plus 10 s; it returns how long it took.
func bgtShutdown(t *testing.T, e *Engine, grace time.Duration) time.Duration {
	t.Helper()
	t0 := time.Now()
	done := make(chan struct{})
	go func() { e.Shutdown(grace); close(done) }()
	select {
	case <-done:
		return time.Since(t0)
	case <-time.After(grace + 10*time.Second):
		t.Fatalf("Shutdown(%v) still blocked after %v\n%s", grace, grace+10*time.Second, bgtStacks())
		return 0
	}
}

// bgtWatchdog makes a test that hangs anywhere (a Poll or Submit that blocks) fail with
// every goroutine's stack after d (or shortly before the test binary's deadline)
// instead of blocking until the go test timeout.
func bgtWatchdog(t *testing.T, d time.Duration) {
	if dl, ok := t.Deadline(); ok && time.Until(dl)-2*time.Second < d {
		d = time.Until(dl) - 2*time.Second
	}
	name := t.Name()
	timer := time.AfterFunc(d, func() {
		panic(fmt.Sprintf("%s still running after %v: hung\n%s", name, d, bgtStacks()))
	})
	t.Cleanup(func() { timer.Stop() })
}

// bgtOpts marshals an options object.
func bgtOpts(v map[string]any) []byte {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// bgtSubmit submits a GET and fails the test on a refusal.
func bgtSubmit(t *testing.T, e *Engine, pool, url string, opts map[string]any) uint64 {
	t.Helper()
	id, err := e.SubmitRequest(pool, Some(url), bgtOpts(opts), nil, false)
	if err != nil {
		t.Fatalf("submit %s to pool %s: %v", url, pool, err)
	}
	return id
}

// bgtPoll waits (bounded) for the next result.
func bgtPoll(t *testing.T, e *Engine, within time.Duration) *BackgroundResult {
	t.Helper()
	r := e.Poll(within)
	if r == nil {
		t.Fatalf("no result within %v (pending %d)", within, e.Pending())
	}
	return r
}

// bgtPollN collects n results (bounded) by id.
func bgtPollN(t *testing.T, e *Engine, n int, within time.Duration) map[uint64]*BackgroundResult {
	t.Helper()
	out := make(map[uint64]*BackgroundResult, n)
	deadline := time.Now().Add(within)
	for len(out) < n {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("%d of %d results within %v (pending %d)", len(out), n, within, e.Pending())
		}
		r := e.Poll(left)
		if r == nil {
			continue
		}
		if _, dup := out[r.ID]; dup {
			t.Fatalf("result for id %d delivered twice", r.ID)
		}
		out[r.ID] = r
	}
	return out
}

// bgtNoMore checks that no further result arrives for a while.
func bgtNoMore(t *testing.T, e *Engine, wait time.Duration) {
	t.Helper()
	if r := e.Poll(wait); r != nil {
		t.Errorf("unexpected extra result: id %d outcome %d curl %d status %d", r.ID, r.Outcome, r.CurlCode, r.Status)
	}
}

// bgtWaitFor polls cond every few ms until it holds or within runs out.
func bgtWaitFor(within time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(within); ; time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// bgtKind is the expected kind of a result.
type bgtKind int

const (
	bgtWantOK       bgtKind = iota // Completed, 200, the body
	bgtWantNothing                 // Completed, 52
	bgtWantTimeout                 // Completed, 28
	bgtWantReset                   // Completed, 56 (or 52)
	bgtWantCancel                  // Cancelled, 42
	bgtWantShutdown                // ShutDown, 42
	bgtWantRace                    // a cancel racing the request's own end (answer or timeout)
)

var bgtKindNames = [...]string{"ok", "nothing", "timeout", "reset", "cancel", "shutdown", "cancel-race"}

// bgtCheck says what is wrong with r for the kind k ("" when nothing).
func bgtCheck(r *BackgroundResult, k bgtKind) string {
	errOnly := func(outcome Outcome, codes ...int) string {
		if r.Outcome != outcome {
			return fmt.Sprintf("outcome %d, want %d", r.Outcome, outcome)
		}
		for _, c := range codes {
			if r.CurlCode == c {
				if r.Error != CurlStrerror(c) {
					return fmt.Sprintf("error text %q for code %d", r.Error, c)
				}
				if r.Status != 0 || r.Content != nil {
					return fmt.Sprintf("status %d / content %q with an error", r.Status, r.Content)
				}
				return ""
			}
		}
		return fmt.Sprintf("curl %d (%s; %s), want %v", r.CurlCode, r.Error, r.Detail, codes)
	}
	switch k {
	case bgtWantOK:
		if r.Outcome != Completed || r.CurlCode != 0 || r.Error != "" || r.Status != 200 || string(r.Content) != bgtBody {
			return fmt.Sprintf("outcome %d curl %d (%s; %s) status %d content %q, want 200", r.Outcome, r.CurlCode, r.Error, r.Detail, r.Status, r.Content)
		}
		return ""
	case bgtWantNothing:
		return errOnly(Completed, curlGotNothing)
	case bgtWantTimeout:
		return errOnly(Completed, curlTimeout)
	case bgtWantReset:
		return errOnly(Completed, curlRecvError, curlGotNothing)
	case bgtWantCancel:
		return errOnly(Cancelled, curlAbortedByCallback)
	case bgtWantShutdown:
		return errOnly(ShutDown, curlAbortedByCallback)
	}
	return "unknown kind"
}

// bgtFDs is the number of open descriptors of the process.
func bgtFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

// bgtWarmUp makes the runtime create what it keeps for the life of the process (the
// network poller's descriptors) before a baseline is taken.
func bgtWarmUp(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err == nil {
		c.Close()
	}
	ln.Close()
	runtime.GC()
}

// bgtSettle waits until the goroutines are at most g and the descriptors at most fds.
func bgtSettle(within time.Duration, g, fds int, countFDs func() int) (int, int, bool) {
	var ng, nf int
	ok := bgtWaitFor(within, func() bool {
		ng, nf = runtime.NumGoroutine(), countFDs()
		return ng <= g && nf <= fds
	})
	return ng, nf, ok
}

func bgtStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// bgtReadable reports whether fd is readable now (select with a zero timeout).
func bgtReadable(t *testing.T, fd int) bool {
	t.Helper()
	return bgtSelect(t, fd, 0)
}

// bgtSelect waits up to d for fd to be readable.
func bgtSelect(t *testing.T, fd int, d time.Duration) bool {
	t.Helper()
	if fd < 0 || fd >= 1024 {
		t.Fatalf("descriptor %d out of select's range", fd)
	}
	for {
		var set syscall.FdSet
		set.Bits[fd/64] |= 1 << (uint(fd) % 64)
		tv := syscall.NsecToTimeval(d.Nanoseconds())
		n, err := syscall.Select(fd+1, &set, nil, nil, &tv)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("select: %v", err)
		}
		return n == 1 && set.Bits[fd/64]&(1<<(uint(fd)%64)) != 0
	}
}

// ---------------------------------------------------------------------------------
// 1. Exactly once.

// TestBackgroundExactlyOnce submits 10 000 requests over three pools with different
// limits and queues, to servers that answer, close without answering, stall past the
// request's timeout and reset mid-response; some stalls are cancelled (queued or in
// flight), some cancels race the request's own answer or timeout, and the last requests
// are stalls still in flight when Shutdown's grace runs out. Every accepted id comes
// back exactly once with the result its server's behaviour calls for (for a race: the
// cancel's result exactly when Cancel succeeded), a full queue is refused at once (and
// the test polls and retries), and afterwards goroutines and descriptors are back to
// their baseline.
func TestBackgroundExactlyOnce(t *testing.T) {
	bgtWatchdog(t, 120*time.Second)
	const (
		total      = 10000
		atShutdown = 40 // no-timeout stalls in flight at the shutdown
	)
	start := time.Now()
	limit := start.Add(90 * time.Second)
	if d, ok := t.Deadline(); ok && d.Add(-5*time.Second).Before(limit) {
		limit = d.Add(-5 * time.Second)
	}

	bgtWarmUp(t)
	baseG, baseFD := runtime.NumGoroutine(), bgtFDs(t)

	okS, closeS := newBgtServer(t, bgtOK), newBgtServer(t, bgtClose)
	stallS, resetS := newBgtServer(t, bgtStall), newBgtServer(t, bgtReset)
	servers := []*bgtServer{okS, closeS, stallS, resetS}

	cfg, err := ParseSettings(`pool = {"id":"small","max_total":4,"max_host":2,"queue":16}
pool = {"id":"mid","max_total":16,"max_host":8,"queue":128}
pool = {"id":"wide","max_total":64,"queue":512}
`)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bgtShutdown(t, e, 0) }) // after a failure; a no-op otherwise
	pools := []string{"small", "mid", "wide"}

	want := make(map[uint64]bgtKind, total)
	seen := make(map[uint64]bool, total)
	var got [len(bgtKindNames)]int
	var submitted [len(bgtKindNames)]int
	bad := 0
	raceRes := make(map[uint64]*BackgroundResult)
	raceAlt := make(map[uint64]bgtKind) // the result of a race the cancel lost
	resetCodes := map[int]int{}
	raceCancelled := make(map[uint64]bool)
	collect := func(r *BackgroundResult) {
		k, ok := want[r.ID]
		switch {
		case !ok:
			bad++
			t.Errorf("result for id %d that was never accepted", r.ID)
		case seen[r.ID]:
			bad++
			t.Errorf("id %d delivered twice", r.ID)
		default:
			seen[r.ID] = true
			got[k]++
			if k == bgtWantRace {
				raceRes[r.ID] = r // checked at the end against what Cancel said
				return
			}
			if k == bgtWantReset {
				resetCodes[r.CurlCode]++
			}
			if msg := bgtCheck(r, k); msg != "" {
				if bad++; bad <= 20 {
					t.Errorf("id %d (%s): %s", r.ID, bgtKindNames[k], msg)
				}
			}
		}
	}
	drain := func(wait time.Duration) {
		for r := e.Poll(wait); r != nil; r = e.Poll(0) {
			collect(r)
		}
	}

	queueFull := 0
	var slowestRefusal time.Duration
	submit := func(pool, url string, opts []byte, k bgtKind) uint64 {
		for {
			t0 := time.Now()
			id, err := e.SubmitRequest(pool, Some(url), opts, nil, false)
			if err == nil {
				want[id] = k
				submitted[k]++
				return id
			}
			if !errors.Is(err, ErrQueueFull) {
				t.Fatalf("submit to %s: %v", pool, err)
			}
			queueFull++
			slowestRefusal = max(slowestRefusal, time.Since(t0))
			if time.Now().After(limit) {
				t.Fatalf("pool %s still full at the time limit (%d accepted, %d results)", pool, len(want), len(seen))
			}
			drain(2 * time.Millisecond)
		}
	}

	optsFast := bgtOpts(map[string]any{"timeout": 30})   // bounded, never reached
	optsStall := bgtOpts(map[string]any{"timeout": 0.2}) // fires with no socket activity
	rng := mrand.New(mrand.NewPCG(1838, 2709))
	type pendingCancel struct {
		id  uint64
		due int
	}
	var cancels []pendingCancel
	doCancel := func(id uint64) {
		err := e.Cancel(id)
		switch {
		case want[id] != bgtWantRace:
			if err != nil {
				t.Errorf("cancel %d: %v", id, err)
			}
		case err == nil:
			raceCancelled[id] = true
			if raceRes[id] != nil {
				t.Errorf("cancel of %d succeeded after its result (curl %d, status %d) was delivered", id, raceRes[id].CurlCode, raceRes[id].Status)
			}
		case !errors.Is(err, ErrUnknownRequest):
			t.Errorf("cancel %d: %v", id, err)
		}
		if err := e.Cancel(id); !errors.Is(err, ErrUnknownRequest) {
			t.Errorf("second cancel of %d: %v, want ErrUnknownRequest", id, err)
		}
	}
	for i := 0; i < total-atShutdown; i++ {
		pool := pools[rng.IntN(len(pools))]
		switch x := rng.IntN(100); {
		case x < 80:
			submit(pool, okS.url("/r/"+strconv.Itoa(i)), optsFast, bgtWantOK)
		case x < 84:
			submit(pool, closeS.url("/r/"+strconv.Itoa(i)), optsFast, bgtWantNothing)
		case x < 88:
			submit(pool, stallS.url("/r/"+strconv.Itoa(i)), optsStall, bgtWantTimeout)
		case x < 92:
			submit(pool, resetS.url("/r/"+strconv.Itoa(i)), optsFast, bgtWantReset)
		case x < 96:
			// A stall without a timeout: only the cancel ends it. Half are cancelled at
			// once (usually still queued or connecting), half a little later (in flight).
			id := submit(pool, stallS.url("/c/"+strconv.Itoa(i)), nil, bgtWantCancel)
			if x%2 == 0 {
				doCancel(id)
			} else {
				cancels = append(cancels, pendingCancel{id, i + 25})
			}
		case x < 99:
			// An answering request cancelled at once or a few submissions later: the
			// cancel races the completion. Either may win, never both.
			id := submit(pool, okS.url("/x/"+strconv.Itoa(i)), optsFast, bgtWantRace)
			raceAlt[id] = bgtWantOK
			if d := rng.IntN(4); d == 0 {
				doCancel(id)
			} else {
				cancels = append(cancels, pendingCancel{id, i + d})
			}
		default:
			// A stall with a timeout cancelled about when the timeout fires (some
			// hundreds of submissions later).
			id := submit(pool, stallS.url("/y/"+strconv.Itoa(i)), optsStall, bgtWantRace)
			raceAlt[id] = bgtWantTimeout
			cancels = append(cancels, pendingCancel{id, i + 300 + rng.IntN(900)})
		}
		kept := cancels[:0]
		for _, c := range cancels {
			if c.due <= i {
				doCancel(c.id)
			} else {
				kept = append(kept, c)
			}
		}
		cancels = kept
		drain(0)
	}
	for _, c := range cancels {
		doCancel(c.id)
	}
	// Everything so far must come back before the shutdown starts.
	for len(seen) < len(want) {
		if time.Now().After(limit) {
			t.Fatalf("%d of %d results before the shutdown (pending %d)", len(seen), len(want), e.Pending())
		}
		drain(50 * time.Millisecond)
	}
	if n := e.Pending(); n != 0 {
		t.Fatalf("pending %d after every result arrived", n)
	}

	// The shutdown: stalls without a timeout, most in flight (the wide pool takes them
	// all at once), some queued behind the small pool's max_host.
	stalledBefore := stallS.requests.Load()
	for i := 0; i < atShutdown; i++ {
		pool := "wide"
		if i%4 == 0 {
			pool = "small"
		}
		submit(pool, stallS.url("/s/"+strconv.Itoa(i)), nil, bgtWantShutdown)
	}
	inFlight := int64(atShutdown*3/4 + 2) // all of "wide" and two of "small"
	if !bgtWaitFor(10*time.Second, func() bool { return stallS.requests.Load()-stalledBefore >= inFlight }) {
		t.Fatalf("stall server saw %d of the %d shutdown requests", stallS.requests.Load()-stalledBefore, inFlight)
	}
	const grace = 300 * time.Millisecond
	took := bgtShutdown(t, e, grace)
	if took < grace || took > grace+5*time.Second {
		t.Errorf("Shutdown(%v) took %v", grace, took)
	}
	if _, err := e.SubmitRequest("wide", Some(okS.url("/late")), nil, nil, false); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("submit after shutdown: %v, want ErrShuttingDown", err)
	}
	for len(seen) < len(want) {
		if time.Now().After(limit) {
			t.Fatalf("%d of %d results after the shutdown", len(seen), len(want))
		}
		drain(50 * time.Millisecond)
	}
	bgtNoMore(t, e, 100*time.Millisecond)
	if n := e.Pending(); n != 0 {
		t.Errorf("pending %d after the shutdown", n)
	}

	// Exactly once: every accepted id seen once, per kind as submitted.
	if len(want) != total {
		t.Errorf("%d requests accepted, want %d", len(want), total)
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("id %d never came back", id)
		}
	}
	if got != submitted {
		t.Errorf("results per kind %v, submitted %v", got, submitted)
	}
	raceWon := map[bgtKind][2]int{} // per race kind: cancel won, cancel lost
	for id, r := range raceRes {
		k := raceAlt[id]
		w := raceWon[k]
		if raceCancelled[id] {
			k = bgtWantCancel
			w[0]++
		} else {
			w[1]++
		}
		raceWon[raceAlt[id]] = w
		if msg := bgtCheck(r, k); msg != "" {
			if bad++; bad <= 40 {
				t.Errorf("id %d (cancel-race, cancel succeeded: %v): %s", id, raceCancelled[id], msg)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d wrong results", bad)
	}
	if slowestRefusal > time.Second {
		t.Errorf("a queue-full refusal took %v", slowestRefusal)
	}

	// Resources: after the shutdown and the servers, back to the baseline. The engine
	// keeps its readiness pipe (two descriptors) for its whole life.
	for _, s := range servers {
		s.close(t)
	}
	e.Close()
	g, fds, ok := bgtSettle(10*time.Second, baseG, baseFD+2, func() int { return bgtFDs(t) })
	if !ok {
		t.Errorf("goroutines %d (baseline %d), descriptors %d (baseline %d + 2 for the readiness pipe)\n%s", g, baseG, fds, baseFD, bgtStacks())
	}
	runtime.KeepAlive(e) // what the engine holds must be released by it, not by finalizers
	var perKind []string
	for k, n := range submitted {
		perKind = append(perKind, fmt.Sprintf("%s=%d", bgtKindNames[k], n))
	}
	t.Logf("%d requests (%s; cancel won/lost against an answer %v, against a timeout %v; reset codes %v) in %v; %d queue-full refusals retried (slowest %v); shutdown took %v; "+
		"server connections ok=%d close=%d stall=%d reset=%d; goroutines %d→%d, descriptors %d→%d (+2 pipe)",
		len(want), strings.Join(perKind, " "), raceWon[bgtWantOK], raceWon[bgtWantTimeout], resetCodes, time.Since(start).Round(time.Millisecond), queueFull, slowestRefusal,
		took.Round(time.Millisecond), okS.accepted.Load(), closeS.accepted.Load(), stallS.accepted.Load(),
		resetS.accepted.Load(), baseG, g, baseFD, fds)
}

// ---------------------------------------------------------------------------------
// 2. Backpressure.

// TestBackgroundQueueFull: a pool with queue 5 against a stalling server takes five
// requests; the sixth is refused with ErrQueueFull at once instead of blocking, and a
// slot freed by a cancel is usable again.
func TestBackgroundQueueFull(t *testing.T) {
	bgtWatchdog(t, 30*time.Second)
	stall := newBgtServer(t, bgtStall)
	e := bgtEngine(t, `pool = {"id":"q","queue":5}`)
	var ids []uint64
	for i := 0; i < 5; i++ {
		ids = append(ids, bgtSubmit(t, e, "q", stall.url("/"+strconv.Itoa(i)), nil))
	}
	if !bgtWaitFor(5*time.Second, func() bool { return stall.requests.Load() == 5 }) {
		t.Fatalf("server saw %d requests, want 5", stall.requests.Load())
	}
	var times []time.Duration
	for i := 0; i < 21; i++ {
		// Submit runs on its own goroutine, so that one that blocks fails the test.
		t0 := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := e.SubmitRequest("q", Some(stall.url("/sixth")), nil, nil, false)
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("the sixth Submit blocked for 2 s")
		}
		d := time.Since(t0)
		if !errors.Is(err, ErrQueueFull) {
			t.Fatalf("sixth submit: %v, want ErrQueueFull", err)
		}
		if d > time.Second {
			t.Fatalf("the refusal took %v: Submit blocked", d)
		}
		times = append(times, d)
	}
	sortDurations(times) // (including the goroutine's start)
	if med := times[len(times)/2]; med > 10*time.Millisecond {
		t.Errorf("median refusal took %v, want well under 10 ms", med)
	}
	t.Logf("21 refusals: fastest %v, median %v, slowest %v", times[0], times[len(times)/2], times[len(times)-1])

	// The queue counts unfinished requests: cancelling one frees a slot (once its
	// transfer has stopped).
	if err := e.Cancel(ids[0]); err != nil {
		t.Fatal(err)
	}
	if r := bgtPoll(t, e, 5*time.Second); r.ID != ids[0] || bgtCheck(r, bgtWantCancel) != "" {
		t.Fatalf("after cancel: id %d, %s", r.ID, bgtCheck(r, bgtWantCancel))
	}
	var id6 uint64
	if !bgtWaitFor(5*time.Second, func() bool {
		id, err := e.SubmitRequest("q", Some(stall.url("/sixth")), nil, nil, false)
		id6 = id
		return err == nil
	}) {
		t.Fatal("no slot after a cancel")
	}
	if _, err := e.SubmitRequest("q", Some(stall.url("/seventh")), nil, nil, false); !errors.Is(err, ErrQueueFull) {
		t.Errorf("seventh submit: %v, want ErrQueueFull", err)
	}
	for _, id := range append(ids[1:], id6) {
		if err := e.Cancel(id); err != nil {
			t.Errorf("cancel %d: %v", id, err)
		}
	}
	for id, r := range bgtPollN(t, e, 5, 5*time.Second) {
		if msg := bgtCheck(r, bgtWantCancel); msg != "" {
			t.Errorf("id %d: %s", id, msg)
		}
	}
}

func sortDurations(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

// ---------------------------------------------------------------------------------
// 3. Timeouts without socket activity.

// bgtFullBacklog returns the address of a listening socket that accepts nothing more:
// its accept queue (backlog 0) is filled and never drained, so a new connect's SYN is
// dropped and the connect hangs.
func bgtFullBacklog(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for i := 0; i < 16; i++ {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return addr // full: connects hang
			}
			t.Fatalf("filling the backlog: %v", err)
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("the accept queue never filled up (connects kept succeeding)")
	return ""
}

// TestBackgroundTimeouts: the total timeout fires while nothing happens on the socket
// (OpenSIPS #1838/#2709), also while the request is queued behind max_total (the wait
// counts), and the connect timeout fires against a socket that never accepts.
func TestBackgroundTimeouts(t *testing.T) {
	bgtWatchdog(t, 30*time.Second)
	const to = 300 * time.Millisecond
	check := func(t *testing.T, e *Engine, id uint64, t0 time.Time) *BackgroundResult {
		t.Helper()
		r := bgtPoll(t, e, 5*time.Second)
		took := time.Since(t0)
		if r.ID != id {
			t.Fatalf("result for %d, want %d", r.ID, id)
		}
		if msg := bgtCheck(r, bgtWantTimeout); msg != "" {
			t.Errorf("%s", msg)
		}
		if took < to || took > 3*time.Second {
			t.Errorf("result after %v, want between %v and 3 s", took, to)
		}
		if r.Timings.Total < to {
			t.Errorf("Timings.Total %v < timeout %v", r.Timings.Total, to)
		}
		t.Logf("curl %d after %v (%s)", r.CurlCode, took.Round(time.Millisecond), r.Detail)
		return r
	}

	t.Run("silent server", func(t *testing.T) {
		stall := newBgtServer(t, bgtStall)
		e := bgtEngine(t, `pool = {"id":"p"}`)
		t0 := time.Now()
		id := bgtSubmit(t, e, "p", stall.url("/"), map[string]any{"timeout": to.Seconds()})
		r := check(t, e, id, t0)
		if stall.requests.Load() != 1 {
			t.Errorf("server saw %d requests", stall.requests.Load())
		}
		if r.Timings.Connect == 0 || r.Timings.FirstByte != 0 {
			t.Errorf("timings %+v: want a connect and no first byte", r.Timings)
		}
		// The timed-out connection is closed, not left to the server.
		if !bgtWaitFor(5*time.Second, func() bool { return stall.open.Load() == 0 }) {
			t.Errorf("server still has %d connections open", stall.open.Load())
		}
	})

	t.Run("queued behind max_total", func(t *testing.T) {
		stall, ok := newBgtServer(t, bgtStall), newBgtServer(t, bgtOK)
		e := bgtEngine(t, `pool = {"id":"p","max_total":1}`)
		blocker := bgtSubmit(t, e, "p", stall.url("/"), nil)
		if !bgtWaitFor(5*time.Second, func() bool { return stall.requests.Load() == 1 }) {
			t.Fatal("the blocking request never reached its server")
		}
		t0 := time.Now()
		id := bgtSubmit(t, e, "p", ok.url("/"), map[string]any{"timeout": to.Seconds()})
		r := check(t, e, id, t0)
		if r.Timings.Queue < to {
			t.Errorf("Timings.Queue %v: the request spent its %v waiting for max_total", r.Timings.Queue, to)
		}
		if n := ok.accepted.Load(); n != 0 {
			t.Errorf("the queued request reached its server (%d connections)", n)
		}
		if err := e.Cancel(blocker); err != nil {
			t.Fatal(err)
		}
		if r := bgtPoll(t, e, 5*time.Second); r.ID != blocker || bgtCheck(r, bgtWantCancel) != "" {
			t.Errorf("blocker: id %d %s", r.ID, bgtCheck(r, bgtWantCancel))
		}
	})

	// The loop looks for deadlines only when the earliest it knows of is due: one that
	// arrives after a later one must still end its request on time, also on a kept
	// connection (no connect deadline to look at).
	t.Run("earlier deadline after a later one", func(t *testing.T) {
		slow := newBgtServer(t, bgtOK)
		e := bgtEngine(t, `pool = {"id":"p"}`)
		slow.delay.Store(int64(100 * time.Millisecond)) // two requests in flight: two kept connections
		for _, id := range []uint64{bgtSubmit(t, e, "p", slow.url("/a"), nil), bgtSubmit(t, e, "p", slow.url("/b"), nil)} {
			if r := bgtPoll(t, e, 5*time.Second); bgtCheck(r, bgtWantOK) != "" {
				t.Fatalf("warm-up %d: %s", id, bgtCheck(r, bgtWantOK))
			}
		}
		if n := slow.accepted.Load(); n != 2 {
			t.Fatalf("%d connections after the warm-up, want 2", n)
		}
		slow.delay.Store(int64(2 * time.Second))
		long := bgtSubmit(t, e, "p", slow.url("/long"), map[string]any{"timeout": 20})
		t0 := time.Now()
		id := bgtSubmit(t, e, "p", slow.url("/short"), map[string]any{"timeout": to.Seconds()})
		check(t, e, id, t0)
		if r := bgtPoll(t, e, 5*time.Second); r.ID != long || bgtCheck(r, bgtWantOK) != "" {
			t.Errorf("long: id %d %s", r.ID, bgtCheck(r, bgtWantOK))
		}
		if n := slow.accepted.Load(); n != 2 {
			t.Errorf("%d connections, want the 2 kept ones", n)
		}
	})

	t.Run("silent mid-body", func(t *testing.T) {
		s := newBgtServer(t, bgtStallBody)
		e := bgtEngine(t, `pool = {"id":"p"}`)
		t0 := time.Now()
		id := bgtSubmit(t, e, "p", s.url("/"), map[string]any{"timeout": to.Seconds()})
		if r := check(t, e, id, t0); r.Timings.FirstByte == 0 {
			t.Errorf("timings %+v: the head arrived", r.Timings)
		}
	})

	t.Run("silent TLS handshake", func(t *testing.T) {
		s := newBgtServer(t, bgtStall) // reads the ClientHello, never answers
		e := bgtEngine(t, `pool = {"id":"p"}`)
		url := "https" + strings.TrimPrefix(s.url("/"), "http")
		t0 := time.Now()
		id := bgtSubmit(t, e, "p", url, map[string]any{"timeout": to.Seconds(), "tls_verify_peer": false})
		check(t, e, id, t0)
		// The handshake is part of the connect: connect_timeout ends it as well.
		t0 = time.Now()
		id = bgtSubmit(t, e, "p", url, map[string]any{"connect_timeout": to.Seconds(), "tls_verify_peer": false})
		check(t, e, id, t0)
	})

	t.Run("connect_timeout, nothing accepts", func(t *testing.T) {
		addr := bgtFullBacklog(t)
		e := bgtEngine(t, `pool = {"id":"p"}`)
		t0 := time.Now()
		id := bgtSubmit(t, e, "p", "http://"+addr+"/", map[string]any{"connect_timeout": to.Seconds()})
		r := check(t, e, id, t0)
		if r.Timings.Connect != 0 {
			t.Errorf("Timings.Connect %v for a connect that never finished", r.Timings.Connect)
		}
		// And the total timeout alone ends a hanging connect too.
		t0 = time.Now()
		id = bgtSubmit(t, e, "p", "http://"+addr+"/", map[string]any{"timeout": to.Seconds()})
		check(t, e, id, t0)
	})
}

// ---------------------------------------------------------------------------------
// 4. Limits as the servers see them.

// bgtGauge counts requests in progress across handlers and keeps the maximum.
type bgtGauge struct {
	mu       sync.Mutex
	now, top int
}

func (g *bgtGauge) enter() {
	g.mu.Lock()
	g.now++
	g.top = max(g.top, g.now)
	g.mu.Unlock()
}

func (g *bgtGauge) leave() {
	g.mu.Lock()
	g.now--
	g.mu.Unlock()
}

func (g *bgtGauge) max() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.top
}

// bgtSlowServer is an HTTP server whose handler takes hold (counted by gauges).
func bgtSlowServer(t *testing.T, hold time.Duration, gauges ...*bgtGauge) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, g := range gauges {
			g.enter()
		}
		time.Sleep(hold)
		for _, g := range gauges {
			g.leave()
		}
		io.WriteString(w, bgtBody)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBackgroundLimits: max_host caps what one server sees at once while another host
// of the same pool is served meanwhile; max_total caps the sum over several servers.
func TestBackgroundLimits(t *testing.T) {
	bgtWatchdog(t, 60*time.Second)
	t.Run("max_host", func(t *testing.T) {
		var g1, g2 bgtGauge
		busy := bgtSlowServer(t, 100*time.Millisecond, &g1)
		other := bgtSlowServer(t, 10*time.Millisecond, &g2)
		e := bgtEngine(t, `pool = {"id":"p","max_total":4,"max_host":2}`)
		busyIDs := map[uint64]bool{}
		for i := 0; i < 20; i++ {
			busyIDs[bgtSubmit(t, e, "p", busy.URL+"/"+strconv.Itoa(i), nil)] = true
		}
		otherID := bgtSubmit(t, e, "p", other.URL+"/", nil)
		busyBefore := -1
		deadline := time.Now().Add(20 * time.Second)
		for done := 0; done < 21; done++ {
			r := e.Poll(time.Until(deadline))
			if r == nil {
				t.Fatalf("%d of 21 results in time", done)
			}
			if msg := bgtCheck(r, bgtWantOK); msg != "" {
				t.Errorf("id %d: %s", r.ID, msg)
			}
			if r.ID == otherID {
				busyBefore = done
			}
		}
		if m := g1.max(); m != 2 {
			t.Errorf("busy server saw up to %d requests at once, want exactly 2 (max_host)", m)
		}
		// 20 requests two at a time take ~1 s; the other host needs one slot of max_total.
		if busyBefore < 0 || busyBefore > 10 {
			t.Errorf("the other host's request finished after %d of the busy host's 20: starved", busyBefore)
		}
		t.Logf("max_host=2: busy host peak %d; other host done after %d busy results", g1.max(), busyBefore)
	})

	t.Run("max_total", func(t *testing.T) {
		var all bgtGauge
		var hosts []*httptest.Server
		for i := 0; i < 3; i++ {
			hosts = append(hosts, bgtSlowServer(t, 60*time.Millisecond, &all))
		}
		e := bgtEngine(t, `pool = {"id":"p","max_total":3}`)
		for i := 0; i < 30; i++ {
			bgtSubmit(t, e, "p", hosts[i%3].URL+"/", nil)
		}
		for id, r := range bgtPollN(t, e, 30, 20*time.Second) {
			if msg := bgtCheck(r, bgtWantOK); msg != "" {
				t.Errorf("id %d: %s", id, msg)
			}
		}
		if m := all.max(); m != 3 {
			t.Errorf("the three servers saw up to %d requests at once, want exactly 3 (max_total)", m)
		}
		t.Logf("max_total=3 over 3 hosts: peak %d", all.max())
	})
}

// ---------------------------------------------------------------------------------
// 5. No identity mixing.

// bgtClientCert makes a self-signed ECDSA client certificate; it returns the PEM texts.
func bgtClientCert(t *testing.T, cn string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// TestBackgroundIdentity: requests with client certificate A, none, B, then again A,
// none, B on one pool, to one HTTPS server that asks for (and records) client
// certificates. Each request's connection presented exactly its own identity, and
// connections are reused within an identity: three connections in all.
func TestBackgroundIdentity(t *testing.T) {
	bgtWatchdog(t, 30*time.Second)
	certA, keyA := bgtClientCert(t, "client-A")
	certB, keyB := bgtClientCert(t, "client-B")
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2], func(t *testing.T) {
			baseG := runtime.NumGoroutine()
			type seen struct{ who, cn, remote string }
			var mu sync.Mutex
			var reqs []seen
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cn := ""
				if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
					cn = r.TLS.PeerCertificates[0].Subject.CommonName
				}
				if (r.ProtoMajor == 2) != h2 {
					t.Errorf("request over HTTP/%d", r.ProtoMajor)
				}
				mu.Lock()
				reqs = append(reqs, seen{r.Header.Get("X-Who"), cn, r.RemoteAddr})
				mu.Unlock()
				io.WriteString(w, bgtBody)
			}))
			srv.EnableHTTP2 = h2
			srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
			var open atomic.Int64
			srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
				switch s {
				case http.StateNew:
					conns.Add(1)
					open.Add(1)
				case http.StateClosed, http.StateHijacked:
					open.Add(-1)
				}
			}
			srv.StartTLS()
			t.Cleanup(srv.Close)
			ca, _ := writePEM(t, t.TempDir(), "server", srv.Certificate().Raw, nil)

			e := bgtEngine(t, "cacert = "+ca+"\npool = {\"id\":\"tls\",\"max_total\":4}")
			idents := map[string]map[string]any{
				"A":    {"x509": certA, "privatekey": keyA},
				"none": nil,
				"B":    {"x509": certB, "privatekey": keyB},
			}
			wantCN := map[string]string{"A": "client-A", "none": "", "B": "client-B"}
			order := []string{"A", "none", "B", "A", "none", "B", "A"}
			for _, who := range order {
				opts := map[string]any{"headers": []string{"X-Who: " + who}, "timeout": 10}
				if c := idents[who]; c != nil {
					opts["tls_client_cert"] = c
				}
				id := bgtSubmit(t, e, "tls", srv.URL+"/", opts)
				r := bgtPoll(t, e, 10*time.Second)
				if r.ID != id {
					t.Fatalf("result %d, want %d", r.ID, id)
				}
				if msg := bgtCheck(r, bgtWantOK); msg != "" {
					t.Fatalf("%s: %s", who, msg)
				}
			}
			// take returns what the server saw so far and starts a new record.
			take := func() []seen {
				mu.Lock()
				defer mu.Unlock()
				out := reqs
				reqs = nil
				return out
			}
			seq := take()
			if len(seq) != len(order) {
				t.Fatalf("server saw %d requests, want %d", len(seq), len(order))
			}
			connOf := map[string]string{} // identity -> remote address
			whoOn := map[string]string{}  // remote address -> identity
			for i, s := range seq {
				if s.who != order[i] {
					t.Errorf("request %d from %q, want %q", i, s.who, order[i])
				}
				if s.cn != wantCN[s.who] {
					t.Errorf("request %d of %s arrived on a connection that presented %q", i, s.who, s.cn)
				}
				if prev, ok := whoOn[s.remote]; ok && prev != s.who {
					t.Errorf("connection %s carried requests of %s and %s", s.remote, prev, s.who)
				}
				whoOn[s.remote] = s.who
				if prev, ok := connOf[s.who]; ok && prev != s.remote {
					t.Errorf("%s not reused: %s then %s", s.who, prev, s.remote)
				}
				connOf[s.who] = s.remote
			}
			if n := conns.Load(); n != 3 {
				t.Errorf("%d connections, want 3 (one per identity)", n)
			}
			t.Logf("sequential: %d requests over %d connections: %v", len(seq), conns.Load(), connOf)

			// Concurrently, ten of each at once: more connections, never a mixed one.
			n := 0
			for i := 0; i < 10; i++ {
				for _, who := range []string{"A", "none", "B"} {
					opts := map[string]any{"headers": []string{"X-Who: " + who}, "timeout": 10}
					if c := idents[who]; c != nil {
						opts["tls_client_cert"] = c
					}
					bgtSubmit(t, e, "tls", srv.URL+"/", opts)
					n++
				}
			}
			for id, r := range bgtPollN(t, e, n, 20*time.Second) {
				if msg := bgtCheck(r, bgtWantOK); msg != "" {
					t.Errorf("id %d: %s", id, msg)
				}
			}
			conc := take()
			if len(conc) != n {
				t.Errorf("server saw %d requests, want %d", len(conc), n)
			}
			whoOn = map[string]string{}
			for _, s := range conc {
				if s.cn != wantCN[s.who] {
					t.Errorf("concurrent request of %s arrived on a connection that presented %q", s.who, s.cn)
				}
				if prev, ok := whoOn[s.remote]; ok && prev != s.who {
					t.Errorf("connection %s carried requests of %s and %s", s.remote, prev, s.who)
				}
				whoOn[s.remote] = s.who
			}
			t.Logf("concurrent: %d requests over %d connections in all", len(conc), conns.Load())

			// Shutdown closes the pooled connections (and, for HTTP/2, their readers):
			// the server sees them all closed, and only its accept loop is left.
			bgtShutdown(t, e, time.Second)
			if !bgtWaitFor(10*time.Second, func() bool { return open.Load() == 0 }) {
				t.Errorf("%d connections still open after the shutdown", open.Load())
			}
			if g, _, ok := bgtSettle(10*time.Second, baseG+1, 1<<30, func() int { return 0 }); !ok {
				t.Errorf("goroutines %d after the shutdown, %d before the server and the engine\n%s", g, baseG, bgtStacks())
			}
			srv.Close()
			if g, _, ok := bgtSettle(10*time.Second, baseG, 1<<30, func() int { return 0 }); !ok {
				t.Errorf("goroutines %d after the shutdown and the server, %d before\n%s", g, baseG, bgtStacks())
			}
			runtime.KeepAlive(e)
		})
	}
}

// ---------------------------------------------------------------------------------
// 6. Cancel and shutdown.

// TestBackgroundCancel: a request in flight and one queued behind max_total are each
// cancelled: one result each, at once (Cancelled, 42), the transfer stopped (the
// server sees the connection close), a second cancel and a cancel of a finished or
// unknown id are ErrUnknownRequest.
func TestBackgroundCancel(t *testing.T) {
	bgtWatchdog(t, 30*time.Second)
	stall, ok := newBgtServer(t, bgtStall), newBgtServer(t, bgtOK)
	e := bgtEngine(t, `pool = {"id":"p","max_total":1}`)

	done := bgtSubmit(t, e, "p", ok.url("/"), nil)
	if r := bgtPoll(t, e, 5*time.Second); r.ID != done || bgtCheck(r, bgtWantOK) != "" {
		t.Fatalf("first request: %d %s", r.ID, bgtCheck(r, bgtWantOK))
	}
	if err := e.Cancel(done); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("cancel of a finished request: %v", err)
	}
	if err := e.Cancel(1 << 60); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("cancel of an unknown id: %v", err)
	}

	inFlight := bgtSubmit(t, e, "p", stall.url("/"), nil)
	if !bgtWaitFor(5*time.Second, func() bool { return stall.requests.Load() == 1 }) {
		t.Fatal("the request never reached the server")
	}
	queued := bgtSubmit(t, e, "p", ok.url("/queued"), nil)
	okReqs := ok.requests.Load()

	for _, id := range []uint64{queued, inFlight} {
		t0 := time.Now()
		if err := e.Cancel(id); err != nil {
			t.Fatalf("cancel %d: %v", id, err)
		}
		r := bgtPoll(t, e, 5*time.Second)
		if r.ID != id {
			t.Fatalf("result for %d after cancelling %d", r.ID, id)
		}
		if msg := bgtCheck(r, bgtWantCancel); msg != "" {
			t.Errorf("id %d: %s", id, msg)
		}
		if d := time.Since(t0); d > time.Second {
			t.Errorf("the cancel's result took %v", d)
		}
		if err := e.Cancel(id); !errors.Is(err, ErrUnknownRequest) {
			t.Errorf("second cancel of %d: %v", id, err)
		}
	}
	bgtNoMore(t, e, 300*time.Millisecond)
	if !bgtWaitFor(5*time.Second, func() bool { return stall.open.Load() == 0 }) {
		t.Error("the cancelled transfer's connection is still open")
	}
	if n := ok.requests.Load(); n != okReqs {
		t.Errorf("the cancelled queued request was sent anyway")
	}
	if !bgtWaitFor(5*time.Second, func() bool { return e.Pending() == 0 }) {
		t.Errorf("pending %d", e.Pending())
	}
	// A request stuck in its TCP connect is cancelled too, and its transfer stops.
	hang := bgtSubmit(t, e, "p", "http://"+bgtFullBacklog(t)+"/", nil)
	time.Sleep(50 * time.Millisecond)
	if err := e.Cancel(hang); err != nil {
		t.Fatalf("cancel during connect: %v", err)
	}
	if r := bgtPoll(t, e, 5*time.Second); r.ID != hang || bgtCheck(r, bgtWantCancel) != "" {
		t.Errorf("cancel during connect: id %d %s", r.ID, bgtCheck(r, bgtWantCancel))
	}
	if !bgtWaitFor(5*time.Second, func() bool { return e.Pending() == 0 }) {
		t.Errorf("pending %d", e.Pending())
	}
	// The pool works afterwards (the cancelled requests gave their slots back).
	id := bgtSubmit(t, e, "p", ok.url("/after"), nil)
	if r := bgtPoll(t, e, 5*time.Second); r.ID != id || bgtCheck(r, bgtWantOK) != "" {
		t.Errorf("after the cancels: %d %s", r.ID, bgtCheck(r, bgtWantOK))
	}
}

// TestBackgroundShutdown: Shutdown refuses new requests, lets the ones that finish
// within the grace period finish normally, fails the rest (ShutDown, 42) and stops
// their transfers; results finished earlier but not yet polled stay available.
func TestBackgroundShutdown(t *testing.T) {
	bgtWatchdog(t, 30*time.Second)
	stall, ok, slow := newBgtServer(t, bgtStall), newBgtServer(t, bgtOK), newBgtServer(t, bgtOK)
	slow.delay.Store(int64(200 * time.Millisecond))
	e := bgtEngine(t, `pool = {"id":"p","max_total":8}`)

	early := bgtSubmit(t, e, "p", ok.url("/early"), nil)
	if !bgtWaitFor(5*time.Second, func() bool { return e.Pending() == 0 }) {
		t.Fatal("the early request did not finish")
	}
	want := map[uint64]bgtKind{early: bgtWantOK}
	for i := 0; i < 3; i++ {
		want[bgtSubmit(t, e, "p", slow.url("/"), nil)] = bgtWantOK
		want[bgtSubmit(t, e, "p", stall.url("/"), nil)] = bgtWantShutdown
	}
	if !bgtWaitFor(5*time.Second, func() bool { return stall.requests.Load() == 3 }) {
		t.Fatal("the stalls never reached their server")
	}
	const grace = time.Second
	if d := bgtShutdown(t, e, grace); d < grace || d > grace+5*time.Second {
		t.Errorf("Shutdown(%v) took %v", grace, d)
	}
	if _, err := e.SubmitRequest("p", Some(ok.url("/late")), nil, nil, false); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("SubmitRequest after shutdown: %v", err)
	}
	if _, err := e.Submit("p", &BackgroundSpec{URL: ok.url("/late"), Method: "GET"}); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("Submit after shutdown: %v", err)
	}
	// Shutdown returns once the transfers have stopped: the stalled connections close.
	if !bgtWaitFor(2*time.Second, func() bool { return stall.open.Load() == 0 }) {
		t.Errorf("%d stalled connections still open after the shutdown", stall.open.Load())
	}
	for id, r := range bgtPollN(t, e, len(want), 5*time.Second) {
		k, known := want[id]
		if !known {
			t.Errorf("unknown id %d", id)
			continue
		}
		if msg := bgtCheck(r, k); msg != "" {
			t.Errorf("id %d (%s): %s", id, bgtKindNames[k], msg)
		}
		if k == bgtWantShutdown {
			if err := e.Cancel(id); !errors.Is(err, ErrUnknownRequest) {
				t.Errorf("cancel of a shut-down request: %v", err)
			}
		}
	}
	bgtNoMore(t, e, 200*time.Millisecond)
	if n := e.Pending(); n != 0 {
		t.Errorf("pending %d", n)
	}
	// A second Shutdown has nothing left to wait for.
	if d := bgtShutdown(t, e, grace); d > grace/2 {
		t.Errorf("second Shutdown took %v", d)
	}
}

// ---------------------------------------------------------------------------------
// 7. ReadyFD.

// TestBackgroundReadyFD: the descriptor is readable exactly while results wait: not at
// the start, after a completion, still after some but not all results are polled, and
// not once Poll has drained everything.
func TestBackgroundReadyFD(t *testing.T) {
	bgtWatchdog(t, 30*time.Second)
	ok := newBgtServer(t, bgtOK)
	e := bgtEngine(t, `pool = {"id":"p","max_total":1}`)
	fd := e.ReadyFD()
	if e.ReadyFD() != fd {
		t.Fatal("ReadyFD changed")
	}
	if bgtReadable(t, fd) {
		t.Fatal("readable before any request")
	}
	if e.Poll(0) != nil {
		t.Fatal("a result before any request")
	}
	for round := 0; round < 3; round++ {
		ids := map[uint64]bool{}
		for i := 0; i < 3; i++ {
			ids[bgtSubmit(t, e, "p", ok.url("/"), nil)] = true
		}
		if !bgtSelect(t, fd, 5*time.Second) {
			t.Fatalf("round %d: not readable within 5 s of the submissions", round)
		}
		if !bgtWaitFor(5*time.Second, func() bool { return e.Pending() == 0 }) {
			t.Fatal("requests did not finish")
		}
		for i := 0; i < 3; i++ {
			if !bgtReadable(t, fd) {
				t.Fatalf("round %d: not readable with %d results waiting", round, 3-i)
			}
			r := e.Poll(0)
			if r == nil || !ids[r.ID] {
				t.Fatalf("round %d: Poll(0) gave %v while the descriptor was readable", round, r)
			}
			delete(ids, r.ID)
		}
		if bgtReadable(t, fd) {
			t.Fatalf("round %d: readable after every result was polled", round)
		}
		if r := e.Poll(0); r != nil {
			t.Fatalf("round %d: extra result %d", round, r.ID)
		}
	}
	// Select on it actually sleeps until a completion.
	slow := newBgtServer(t, bgtOK)
	slow.delay.Store(int64(200 * time.Millisecond))
	t0 := time.Now()
	bgtSubmit(t, e, "p", slow.url("/"), nil)
	if !bgtSelect(t, fd, 5*time.Second) {
		t.Fatal("not readable after a completion")
	}
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Errorf("readable after %v, before the result existed", d)
	}
	if bgtPoll(t, e, 0) == nil || bgtReadable(t, fd) {
		t.Error("still readable after draining")
	}
}

// TestBackgroundReadyFDAfterResults: the pipe holds its byte only once someone may watch
// it (completions.go), so a descriptor first asked for while results already wait must
// be readable at once, and stop being readable when they are polled.
func TestBackgroundReadyFDAfterResults(t *testing.T) {
	bgtWatchdog(t, 30*time.Second)
	ok := newBgtServer(t, bgtOK)
	e := bgtEngine(t, `pool = {"id":"p","max_total":2}`)
	for i := 0; i < 2; i++ {
		bgtSubmit(t, e, "p", ok.url("/"), nil)
	}
	if !bgtWaitFor(5*time.Second, func() bool { return e.Pending() == 0 }) {
		t.Fatal("requests did not finish")
	}
	fd := e.ReadyFD()
	if !bgtReadable(t, fd) {
		t.Fatal("not readable with two results waiting before the descriptor was asked for")
	}
	for i := 0; i < 2; i++ {
		if bgtPoll(t, e, 0) == nil {
			t.Fatalf("result %d missing", i)
		}
	}
	if bgtReadable(t, fd) {
		t.Fatal("readable after every result was polled")
	}
}

// ---------------------------------------------------------------------------------
// 8. Timings.

// TestBackgroundTimings: Queue covers the time spent waiting for max_total; the phases
// are ordered (Queue ≤ Connect ≤ FirstByte ≤ Total, Connect 0 on a reused connection).
func TestBackgroundTimings(t *testing.T) {
	bgtWatchdog(t, 30*time.Second)
	const hold = 300 * time.Millisecond
	var g bgtGauge
	s1, s2 := bgtSlowServer(t, hold, &g), bgtSlowServer(t, hold, &g)
	e := bgtEngine(t, `pool = {"id":"p","max_total":1}`)
	first := bgtSubmit(t, e, "p", s1.URL+"/", nil)
	sameHost := bgtSubmit(t, e, "p", s1.URL+"/", nil)
	otherHost := bgtSubmit(t, e, "p", s2.URL+"/", nil)
	res := bgtPollN(t, e, 3, 10*time.Second)
	for id, r := range res {
		if msg := bgtCheck(r, bgtWantOK); msg != "" {
			t.Fatalf("id %d: %s", id, msg)
		}
		tm := r.Timings
		if tm.Queue > tm.Total || tm.FirstByte > tm.Total || tm.Connect > tm.Total || tm.TLS != 0 {
			t.Errorf("id %d: timings not within Total: %+v", id, tm)
		}
		if tm.Connect != 0 && (tm.Connect < tm.Queue || tm.Connect > tm.FirstByte) {
			t.Errorf("id %d: phases out of order: %+v", id, tm)
		}
		if tm.FirstByte < tm.Queue+hold*2/3 {
			t.Errorf("id %d: first byte %v before queue %v + the server's %v", id, tm.FirstByte, tm.Queue, hold)
		}
		t.Logf("id %d: queue %v connect %v first byte %v total %v", id, tm.Queue, tm.Connect, tm.FirstByte, tm.Total)
	}
	// The goroutines take max_total in any order: sorted by Queue, the first barely
	// waited, the second waited ~hold for the first, the third ~2*hold for both.
	ids := []uint64{first, sameHost, otherHost}
	sort.Slice(ids, func(i, j int) bool { return res[ids[i]].Timings.Queue < res[ids[j]].Timings.Queue })
	q := []time.Duration{res[ids[0]].Timings.Queue, res[ids[1]].Timings.Queue, res[ids[2]].Timings.Queue}
	if q[0] > hold/2 || q[1] < hold*2/3 || q[2] < hold*4/3 {
		t.Errorf("queued %v, %v, %v: want ~0, ~%v and ~%v (waiting for max_total)", q[0], q[1], q[2], hold, 2*hold)
	}
	// Of the two requests to s1 the later one reuses the earlier one's connection; the
	// one to s2 needs its own.
	early, late := first, sameHost
	if res[late].Timings.Queue < res[early].Timings.Queue {
		early, late = late, early
	}
	if res[early].Timings.Connect == 0 || res[late].Timings.Connect != 0 || res[otherHost].Timings.Connect == 0 {
		t.Errorf("connects %v (s1, earlier), %v (s1, later: reuse expected), %v (s2)",
			res[early].Timings.Connect, res[late].Timings.Connect, res[otherHost].Timings.Connect)
	}
	if g.max() != 1 {
		t.Errorf("servers saw %d requests at once under max_total 1", g.max())
	}
}

// TestBackgroundCancelRaceKeepsConnectionsClean: a cancel that arrives while a request
// is finishing must not reach the connection that request hands back to the pool: the
// next request on that connection (same pool, same host, max_total 1 so it takes that
// very connection) must not fail. The transfer's stop hook (context.AfterFunc in
// request.go's transfer, and in transport.go's dial) may still be running when the
// transfer returns; context.AfterFunc's stop does not wait for it, so it can set a
// past deadline on a connection already pooled and reused.
func TestBackgroundCancelRaceKeepsConnectionsClean(t *testing.T) {
	bgtWatchdog(t, 60*time.Second)
	ok := newBgtServer(t, bgtOK)
	e := bgtEngine(t, `pool = {"id":"p","max_total":1}`)
	opts := map[string]any{"timeout": 30}
	const rounds = 3000
	failed, cancelWon := 0, 0
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < rounds && time.Now().Before(deadline); i++ {
		seenBefore := ok.requests.Load()
		a := bgtSubmit(t, e, "p", ok.url("/a"), opts)
		b := bgtSubmit(t, e, "p", ok.url("/b"), opts)
		// Cancel a just as the server answers it.
		for ok.requests.Load() == seenBefore && time.Now().Before(deadline) {
			runtime.Gosched()
		}
		if e.Cancel(a) == nil {
			cancelWon++
		}
		for id, r := range bgtPollN(t, e, 2, 10*time.Second) {
			if id == b && r.CurlCode != 0 {
				if failed++; failed <= 5 {
					t.Errorf("round %d: the request after a cancelled one failed: curl %d (%s)", i, r.CurlCode, r.Detail)
				}
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d requests failed on a connection a late cancel had poisoned", failed)
	}
	t.Logf("%d rounds, the cancel won %d", rounds, cancelWon)
}

// TestBackgroundShutdownRace: Shutdown with a grace period that ends while hundreds of
// requests are finishing: each of them has exactly one result, either its own
// (Completed, 200) or the shutdown's (ShutDown, 42); the stalls are all shut down.
func TestBackgroundShutdownRace(t *testing.T) {
	bgtWatchdog(t, 60*time.Second)
	ok, stall := newBgtServer(t, bgtOK), newBgtServer(t, bgtStall)
	ok.delay.Store(int64(2 * time.Millisecond))
	e := bgtEngine(t, `pool = {"id":"a","max_total":16,"max_host":8,"queue":400}
pool = {"id":"b","max_total":4,"queue":400}`)
	want := map[uint64]bool{} // id -> stall
	for i := 0; i < 600; i++ {
		pool := []string{"a", "b"}[i%2]
		if i%10 == 0 {
			want[bgtSubmit(t, e, pool, stall.url("/"), nil)] = true
		} else {
			want[bgtSubmit(t, e, pool, ok.url("/"), nil)] = false
		}
	}
	if bgtShutdown(t, e, 50*time.Millisecond) > 10*time.Second {
		t.Error("Shutdown took more than 10 s")
	}
	completed, shut := 0, 0
	for id, r := range bgtPollN(t, e, len(want), 10*time.Second) {
		isStall, known := want[id]
		switch {
		case !known:
			t.Errorf("unknown id %d", id)
		case isStall || r.Outcome == ShutDown:
			shut++
			if msg := bgtCheck(r, bgtWantShutdown); msg != "" {
				t.Errorf("id %d: %s", id, msg)
			}
		default:
			completed++
			if msg := bgtCheck(r, bgtWantOK); msg != "" {
				t.Errorf("id %d: %s", id, msg)
			}
		}
	}
	bgtNoMore(t, e, 100*time.Millisecond)
	if e.Pending() != 0 {
		t.Errorf("pending %d", e.Pending())
	}
	if !bgtWaitFor(5*time.Second, func() bool { return stall.open.Load() == 0 && ok.open.Load() == 0 }) {
		t.Errorf("connections still open after the shutdown: %d stalled, %d answering", stall.open.Load(), ok.open.Load())
	}
	t.Logf("600 requests: %d completed, %d shut down", completed, shut)
}

// TestBackgroundRetryAfterDeadKeptConnections: the server closes every kept connection
// while they are idle; the next request fails on the first (nothing comes back) and is
// retried, as by curl, on a fresh connect: not on the next kept one, dead as well. To an
// IP address and to a host name.
func TestBackgroundRetryAfterDeadKeptConnections(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			bgtWatchdog(t, 30*time.Second)
			release := make(chan struct{})
			var held atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if held.Add(1) <= 2 {
					<-release // the first two are answered together: two kept connections
				}
				_, _ = io.WriteString(w, "ok")
			}))
			defer srv.Close()
			e := bgtEngine(t, `pool = {"id":"p", "max_host": 4}`)
			url := fmt.Sprintf("http://%s:%d/", host, srv.Listener.Addr().(*net.TCPAddr).Port)
			bgtSubmit(t, e, "p", url, nil)
			bgtSubmit(t, e, "p", url, nil)
			if !bgtWaitFor(5*time.Second, func() bool { return held.Load() == 2 }) {
				t.Fatalf("the server saw %d requests, want 2", held.Load())
			}
			close(release)
			for _, r := range bgtPollN(t, e, 2, 5*time.Second) {
				if r.Status != 200 {
					t.Fatalf("first requests: status %d %s", r.Status, r.Detail)
				}
			}
			srv.CloseClientConnections()
			time.Sleep(50 * time.Millisecond) // the FINs arrive
			bgtSubmit(t, e, "p", url, nil)
			if r := bgtPoll(t, e, 5*time.Second); r.Status != 200 || string(r.Content) != "ok" {
				t.Errorf("after the kept connections died: status %d curl %d %s, want 200 ok", r.Status, r.CurlCode, r.Detail)
			}
		})
	}
}

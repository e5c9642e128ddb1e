package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptServer answers each request with the raw bytes its path names (loopScripts), so
// that every way a response can be framed or broken reaches the client as written, and
// records every request it reads.
type scriptServer struct {
	ln   net.Listener
	mu   sync.Mutex
	seen []string // raw requests, head and body
}

// loopScripts: path -> what the server does. A string is written and the connection
// kept; the special actions are named by the functions below.
var loopScripts = map[string]func(c net.Conn){
	"/ok":          write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello"),
	"/empty":       write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	"/204":         write("HTTP/1.1 204 No Content\r\nX-B: c\r\n\r\n"),
	"/302":         write("HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\n\r\n"),
	"/404":         write("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found"),
	"/chunked":     write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
	"/continue":    write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
	"/http10":      write("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
	"/bare-lf":     write("HTTP/1.1 200 OK\nContent-Length: 2\nX-C: d\n\nok"),
	"/extra":       write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE"),
	"/conn-close":  write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"),
	"/big":         write("HTTP/1.1 200 OK\r\nContent-Length: 102400\r\n\r\n" + strings.Repeat("b", 100<<10)),
	"/40k":         write("HTTP/1.1 200 OK\r\nContent-Length: 40960\r\n\r\n" + strings.Repeat("m", 40<<10)),
	"/bigheader":   write("HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("h", 120<<10) + "\r\nContent-Length: 2\r\n\r\nok"),
	"/maxfile":     write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("x", 100)),
	"/garbage":     writeClose("HELLO\r\n\r\n"),
	"/delimited":   writeClose("HTTP/1.1 200 OK\r\n\r\nuntil the close"),
	"/partial":     writeClose("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd"),
	"/head-cut":    writeClose("HTTP/1.1 200 OK\r\nX-D: e\r\n"),
	"/nothing":     writeClose(""),
	"/reset":       reset,
	"/reset-mid":   func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")); reset(c) },
	"/trickle":     trickle("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-E: f\r\n\r\ntrick!"),
	"/stall":       func(net.Conn) { time.Sleep(2 * time.Second) },
	"/status-junk": write("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"),
	"/http2-line":  writeClose("HTTP/2 200\r\nContent-Length: 0\r\n\r\n"),
	// Kept for 20 ms after the answer, then closed by the server.
	"/idle-close": func(c net.Conn) {
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	},
}

func write(s string) func(net.Conn) {
	return func(c net.Conn) { _, _ = c.Write([]byte(s)) }
}

func writeClose(s string) func(net.Conn) {
	return func(c net.Conn) { _, _ = c.Write([]byte(s)); _ = c.Close() }
}

func trickle(s string) func(net.Conn) {
	return func(c net.Conn) {
		for i := range len(s) {
			_, _ = c.Write([]byte{s[i]})
			time.Sleep(time.Millisecond)
		}
	}
}

func reset(c net.Conn) {
	_ = c.(*net.TCPConn).SetLinger(0)
	_ = c.Close()
}

func newScriptServer(t *testing.T) *scriptServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptServer{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *scriptServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		var req bytes.Buffer
		length := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			req.WriteString(line)
			if name, val, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "Content-Length") {
				length, _ = strconv.Atoi(strings.TrimSpace(val))
			}
			if line == "\r\n" {
				break
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		req.Write(body)
		s.mu.Lock()
		s.seen = append(s.seen, req.String())
		s.mu.Unlock()
		path := strings.Fields(req.String())[1]
		script := loopScripts[path]
		if script == nil {
			return
		}
		script(c)
	}
}

func (s *scriptServer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.seen
	s.seen = nil
	return out
}

// dedup drops requests repeated back to back.
func dedup(seen []string) []string {
	var out []string
	for i, r := range seen {
		if i == 0 || r != seen[i-1] {
			out = append(out, r)
		}
	}
	return out
}

// comparable is a result without what differs between two runs of the same request.
func comparable(r *BackgroundResult) string {
	return fmt.Sprintf("status=%d curl=%d error=%q detail=%q version=%q url=%q header=%q content=%q (nil %v)",
		r.Status, r.CurlCode, r.Error, r.Detail, r.HTTPVersion, r.EffectiveURL, r.Header, r.Content, r.Content == nil)
}

// TestLoopMatchesGoroutinePath sends each scripted response to the same request
// through the event loop and through the goroutine path (background_loop = 0): the
// results, and the requests the server saw, must be the same, whether the loop
// completes the request itself or hands it over.
func TestLoopMatchesGoroutinePath(t *testing.T) {
	bgtWatchdog(t, 120*time.Second)
	srv := newScriptServer(t)
	base := "http://" + srv.ln.Addr().String()
	const pools = `pool = {"id":"p","max_total":4}`
	loopEngine := bgtEngine(t, pools)
	goEngine := bgtEngine(t, pools+"\nbackground_loop = 0")
	if loopEngine.bg.loop == nil || goEngine.bg.loop != nil {
		t.Fatal("background_loop does not choose the path")
	}
	type call struct {
		path string
		opts map[string]any
		post string
	}
	calls := []call{}
	for path := range loopScripts {
		if path == "/stall" {
			continue
		}
		calls = append(calls, call{path: path})
	}
	calls = append(calls,
		call{path: "/ok", post: "a=1&b=2"},
		call{path: "/ok", opts: map[string]any{"headers": []any{"X-Custom: 1", "Accept:", "X-Empty;"}}},
		call{path: "/ok", opts: map[string]any{"headers": []any{"Bad: a\r\nInjected: b"}}},
		call{path: "/404", post: strings.Repeat("p", 40<<10)},
		call{path: "/maxfile", opts: map[string]any{"max_file_size": 50}},
		call{path: "/stall", opts: map[string]any{"timeout": 0.3}},
		call{path: "/ok", opts: map[string]any{"method": "PATCH"}}, // not the loop's: same all the same
		// A request larger than the loop writes: given up before anything is sent.
		call{path: "/ok", post: strings.Repeat("q", 30<<10), opts: map[string]any{"headers": []any{"X-Long: " + strings.Repeat("l", 40<<10)}}},
	)
	run := func(e *Engine, c call) (*BackgroundResult, []string) {
		var post []byte
		if c.post != "" {
			post = []byte(c.post)
		}
		id, err := e.SubmitRequest("p", Some(base+c.path), bgtOpts(c.opts), post, c.post != "")
		if err != nil {
			t.Fatalf("%s: submit: %v", c.path, err)
		}
		r := bgtPoll(t, e, 10*time.Second)
		if r.ID != id {
			t.Fatalf("%s: result of %d for %d", c.path, r.ID, id)
		}
		time.Sleep(5 * time.Millisecond) // the server records before it answers; this lets it finish
		return r, srv.take()
	}
	for round := 0; round < 2; round++ { // the second round runs on kept connections
		for _, c := range calls {
			name := fmt.Sprintf("round %d %s post=%d opts=%v", round, c.path, len(c.post), c.opts)
			lr, lseen := run(loopEngine, c)
			gr, gseen := run(goEngine, c)
			if a, b := comparable(lr), comparable(gr); a != b {
				t.Errorf("%s:\n loop:      %.600s\n goroutine: %.600s", name, a, b)
			}
			// A request sent again because its kept connection had died is curl's retry;
			// which connections are kept differs between the paths (a handed-over
			// connection is kept by the goroutine path's pool), so retries are not compared.
			if fmt.Sprint(dedup(lseen)) != fmt.Sprint(dedup(gseen)) {
				t.Errorf("%s: the server saw\n loop:      %.600q\n goroutine: %.600q", name, lseen, gseen)
			}
		}
	}
	l := loopEngine.bg.loop
	t.Logf("loop: %d completed itself, %d handed over after writing, %d before", l.stats.completed.Load(), l.stats.handedOver.Load(), l.stats.gaveUp.Load())
	if l.stats.completed.Load() == 0 || l.stats.handedOver.Load() == 0 || l.stats.gaveUp.Load() == 0 {
		t.Error("the loop's three ways out were not all taken")
	}
}

// TestLoopRefusedAndDeadConnections: a refused connect fails the same on both paths,
// and a kept connection the server closed while idle is replaced by a new one.
func TestLoopRefusedAndDeadConnections(t *testing.T) {
	bgtWatchdog(t, 60*time.Second)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	_ = ln.Close()
	loopEngine := bgtEngine(t, `pool = {"id":"p"}`)
	goEngine := bgtEngine(t, "pool = {\"id\":\"p\"}\nbackground_loop = 0")
	var got []string
	for _, e := range []*Engine{loopEngine, goEngine} {
		bgtSubmit(t, e, "p", closed, nil)
		got = append(got, comparable(bgtPoll(t, e, 10*time.Second)))
	}
	if got[0] != got[1] || !strings.Contains(got[0], "curl=7 ") {
		t.Errorf("refused:\n loop:      %s\n goroutine: %s", got[0], got[1])
	}

	// A server that closes every connection 20 ms after its answer: the second request
	// finds its kept connection dead (seen by the loop while idle, or met by the write
	// or the read) and must still succeed.
	srv := newScriptServer(t)
	url := "http://" + srv.ln.Addr().String() + "/idle-close"
	for i, wait := range []time.Duration{0, 50 * time.Millisecond, 0, 30 * time.Millisecond, 21 * time.Millisecond, 19 * time.Millisecond} {
		time.Sleep(wait)
		bgtSubmit(t, loopEngine, "p", url, nil)
		if r := bgtPoll(t, loopEngine, 10*time.Second); r.CurlCode != 0 || string(r.Content) != "ok" {
			t.Errorf("request %d after %v idle: %s", i, wait, comparable(r))
		}
	}
}

// TestLoopDrivenWithoutHostPolling: requests progress when no thread polls (the driver
// goroutine takes over), and when the only polling thread waits without limit while
// another submits.
func TestLoopDrivenWithoutHostPolling(t *testing.T) {
	bgtWatchdog(t, 60*time.Second)
	srv := newScriptServer(t)
	url := "http://" + srv.ln.Addr().String() + "/ok"
	e := bgtEngine(t, `pool = {"id":"p","max_total":2}`)
	const n = 20
	for range n {
		bgtSubmit(t, e, "p", url, nil)
	}
	if !bgtWaitFor(5*time.Second, func() bool { return e.Pending() == 0 }) {
		t.Fatalf("nobody polls: %d of %d requests still pending after 5 s", e.Pending(), n)
	}
	for id, r := range bgtPollN(t, e, n, time.Second) {
		if r.CurlCode != 0 || string(r.Content) != "hello" {
			t.Errorf("id %d: %s", id, comparable(r))
		}
	}

	got := make(chan *BackgroundResult)
	go func() {
		for range n {
			got <- e.Poll(-1) // started before anything is submitted: nothing to lead
		}
	}()
	time.Sleep(20 * time.Millisecond)
	for range n {
		bgtSubmit(t, e, "p", url, nil)
	}
	for i := range n {
		select {
		case r := <-got:
			if r.CurlCode != 0 {
				t.Errorf("result %d: %s", i, comparable(r))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("a thread in Poll(-1) and another submitting: %d of %d results in 5 s", i, n)
		}
	}
	if l := e.bg.loop; l.stats.completed.Load() != 2*n {
		t.Errorf("the loop completed %d of %d", l.stats.completed.Load(), 2*n)
	}
}

// TestLoopSpinsOnlyAfterShortWaits: the leader spins before it sleeps only after a run of
// short waits (spinFor's conditions). Answers that take 2 ms must never cost a spin; 64
// requests in flight to a loopback server must be spun for, and the spins must catch
// answers.
func TestLoopSpinsOnlyAfterShortWaits(t *testing.T) {
	cases := []struct {
		name     string
		delay    time.Duration
		inFlight int
		requests int
		spins    bool
	}{
		{"2 ms answers, one at a time", 2 * time.Millisecond, 1, 300, false},
		{"quick answers, 64 in flight", 0, 64, 5000, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, func(rawRequest) string {
				time.Sleep(tc.delay)
				return httpResponse(200, "", "ok")
			})
			e := bgtEngine(t, `pool = {"id": "p"}`)
			url := "http://" + srv.addr() + "/"
			n := tc.requests
			for range tc.inFlight {
				bgtSubmit(t, e, "p", url, nil)
			}
			for i := range n {
				r := bgtPoll(t, e, 10*time.Second)
				if r.Status != 200 || string(r.Content) != "ok" {
					t.Fatalf("result %d: %s", i, comparable(r))
				}
				if i+tc.inFlight < n {
					bgtSubmit(t, e, "p", url, nil)
				}
			}
			l := e.bg.loop
			tried, caught := l.spins.tried.Load(), l.spins.caught.Load()
			t.Logf("%d requests: %d spins, %d caught an answer", n, tried, caught)
			if l.stats.completed.Load() != int64(n) {
				t.Fatalf("the loop completed %d of %d requests itself", l.stats.completed.Load(), n)
			}
			if tc.spins && (tried == 0 || caught == 0) {
				t.Errorf("no spin caught an answer at %d in flight", tc.inFlight)
			}
			if !tc.spins && tried != 0 {
				t.Errorf("%d spins for answers that take %v", tried, tc.delay)
			}
		})
	}
}

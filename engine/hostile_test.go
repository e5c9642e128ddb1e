// Tests against hostile servers: local listeners that misbehave the ways a real peer can
// (never answer, stall mid-head, reset mid-body, send garbage, 1 MiB of headers, an
// endless chunked body (paced, and at full speed), one byte per second, garbage or a stall inside the TLS
// handshake, a redirect to a non-http scheme). hc runs inside other people's servers, so
// each case is sent through both front doors — the synchronous call (Kamailio's
// http_client_query) and a background request — and must end within its timeout with
// the code libcurl 7.88.1 gives for the same peer, after which the process's goroutines
// and descriptors are back where they were: a hostile peer costs nothing once the call
// has returned.

package engine

import (
	"bufio"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// newHostileServer runs one misbehaviour per accepted connection.
func newHostileServer(t *testing.T, handle func(c net.Conn, br *bufio.Reader)) *trackedServer {
	return startTrackedServer(t, func(c net.Conn) { handle(c, bufio.NewReader(c)) })
}

// Handlers. Each one returns only when the client has gone (a read sees EOF or a write
// fails), so that a connection the client leaks keeps a handler alive and shows up in
// the goroutine and descriptor counts.

// drain reads until the client closes the connection.
func drain(br *bufio.Reader) { _, _ = io.Copy(io.Discard, br) }

// drainAside drains on another goroutine, so that a handler busy writing still reads
// what the client sends; the returned channel closes when the client has gone.
func drainAside(br *bufio.Reader) <-chan struct{} {
	gone := make(chan struct{})
	go func() { drain(br); close(gone) }()
	return gone
}

// hostileSilent accepts, reads the request and never answers.
func hostileSilent(c net.Conn, br *bufio.Reader) { drain(br) }

// hostileStatusThenStall sends the status line and nothing else.
func hostileStatusThenStall(c net.Conn, br *bufio.Reader) {
	if bgtReadRequest(br) != nil {
		return
	}
	_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
	drain(br)
}

// hostileResetMidBody sends the head and part of the body, then a TCP reset.
func hostileResetMidBody(c net.Conn, br *bufio.Reader) {
	if bgtReadRequest(br) != nil {
		return
	}
	_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("x", 5000))
	time.Sleep(20 * time.Millisecond) // let the client take the partial body first
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST instead of FIN
	}
}

// hostileGarbage answers with bytes that are not an HTTP status line.
func hostileGarbage(c net.Conn, br *bufio.Reader) {
	if bgtReadRequest(br) != nil {
		return
	}
	_, _ = c.Write([]byte("\x00\xff\xfeSSH-2.0-nonsense \x7f\x80\r\n\r\nmore garbage\r\n"))
	drain(br)
}

// hostileHeaders sends a 200 status line followed by 1 MiB of header bytes: lineLen
// bytes per line (lineLen >= 1 MiB: one single line), never ending the head.
func hostileHeaders(lineLen int) func(c net.Conn, br *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		if bgtReadRequest(br) != nil {
			return
		}
		gone := drainAside(br)
		defer func() { c.Close(); <-gone }()
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\n"); err != nil {
			return
		}
		const total = 1 << 20
		line := []byte("X-Pad: " + strings.Repeat("h", lineLen-9) + "\r\n")
		for sent := 0; sent < total; sent += len(line) {
			if _, err := c.Write(line); err != nil {
				return
			}
		}
		_, _ = io.WriteString(c, "\r\n")
		<-gone
	}
}

// hostileEndlessChunked sends a 4 KiB chunk every 2 ms for ever (until the client goes).
// The pace keeps the test's memory small: at loopback speed the body grows by ~300 MiB
// per second, all of it kept, as Kamailio keeps it (maxdatasize 0 = no limit) — that
// flood's cost is noted in the README's Reliability section, not run here.
func hostileEndlessChunked(c net.Conn, br *bufio.Reader) {
	if bgtReadRequest(br) != nil {
		return
	}
	gone := drainAside(br)
	defer func() { c.Close(); <-gone }()
	if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"); err != nil {
		return
	}
	chunk := []byte("1000\r\n" + strings.Repeat("c", 0x1000) + "\r\n")
	for {
		if _, err := c.Write(chunk); err != nil {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// hostileEndlessFast sends an endless chunked body as fast as the connection takes it,
// or, with contentLength > 0, a body of that declared length just as fast.
func hostileEndlessFast(contentLength int) func(c net.Conn, br *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		if bgtReadRequest(br) != nil {
			return
		}
		gone := drainAside(br)
		defer func() { c.Close(); <-gone }()
		head, chunk := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
			[]byte("10000\r\n"+strings.Repeat("f", 0x10000)+"\r\n")
		if contentLength > 0 {
			head, chunk = "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(contentLength)+"\r\n\r\n",
				[]byte(strings.Repeat("f", 0x10000))
		}
		if _, err := io.WriteString(c, head); err != nil {
			return
		}
		for sent := 0; contentLength == 0 || sent < contentLength; sent += len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}
}

// hostileTrickle sends a valid response one byte per second.
func hostileTrickle(c net.Conn, br *bufio.Reader) {
	if bgtReadRequest(br) != nil {
		return
	}
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	for i := 0; i < len(resp); i++ {
		if _, err := c.Write([]byte{resp[i]}); err != nil {
			return
		}
		time.Sleep(time.Second)
	}
	drain(br)
}

// readTLSRecord reads one TLS record (the ClientHello) and reports whether it looks
// like a handshake record.
func readTLSRecord(br *bufio.Reader) bool {
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(br, hdr); err != nil || hdr[0] != 0x16 {
		return false
	}
	n := int(hdr[3])<<8 | int(hdr[4])
	_, err := io.CopyN(io.Discard, br, int64(n))
	return err == nil
}

// hostileTLSGarbage reads the ClientHello and answers with bytes that are no TLS record.
func hostileTLSGarbage(c net.Conn, br *bufio.Reader) {
	if !readTLSRecord(br) {
		return
	}
	_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n\x00\x01\x02garbage")
	drain(br)
}

// hostileTLSStall reads the ClientHello and sends the first bytes of a ServerHello
// record (a handshake record header announcing 100 bytes, then 3 of them): the client is
// left inside the handshake, waiting for the rest.
func hostileTLSStall(c net.Conn, br *bufio.Reader) {
	if !readTLSRecord(br) {
		return
	}
	_, _ = c.Write([]byte{0x16, 0x03, 0x03, 0x00, 0x64, 0x02, 0x00, 0x00})
	drain(br)
}

// hostileRedirect answers every request with a 302 to location.
func hostileRedirect(location string) func(c net.Conn, br *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		for bgtReadRequest(br) == nil {
			if _, err := io.WriteString(c, "HTTP/1.1 302 Found\r\nLocation: "+location+"\r\nContent-Length: 0\r\n\r\n"); err != nil {
				return
			}
		}
	}
}

// hostileCase is one server behaviour and what each front door must return.
type hostileCase struct {
	name    string
	handle  func(c net.Conn, br *bufio.Reader)
	https   bool
	sync    int              // curl code of the synchronous call (connection_timeout = 1)
	bg      map[string]int   // background options (JSON text) -> curl code
	bound   time.Duration    // the call must return within this (timeout + slack)
	atLeast time.Duration    // and not before this (a timeout that fires early is wrong too)
	why     string           // why libcurl 7.88.1 returns this code
	extra   func(*testing.T) // further checks after the calls
	// keptIdle is how many connections may stay in the pool's idle list: those that
	// ended with a complete, reusable response.
	keptIdle int
}

// hostileSyncTimeout is the synchronous calls' connection_timeout (whole seconds, as in
// Kamailio); the background requests use the fractional hostileBgTimeout.
const (
	hostileSyncTimeout = time.Second
	hostileBgTimeout   = 700 * time.Millisecond
	hostileSlack       = 1500 * time.Millisecond // -race and a loaded 2-core machine
)

func hostileCases() []hostileCase {
	to := `{"timeout": 0.7}`
	return []hostileCase{
		{name: "accept and never answer", handle: hostileSilent,
			sync: curlTimeout, bg: map[string]int{to: curlTimeout}, atLeast: hostileBgTimeout,
			why: "nothing arrives before the total timeout: CURLE_OPERATION_TIMEDOUT"},
		{name: "status line then stall", handle: hostileStatusThenStall,
			sync: curlTimeout, bg: map[string]int{to: curlTimeout}, atLeast: hostileBgTimeout,
			why: "the head never ends: CURLE_OPERATION_TIMEDOUT"},
		{name: "reset mid-body", handle: hostileResetMidBody,
			sync: curlRecvError, bg: map[string]int{to: curlRecvError},
			why: "recv() fails with ECONNRESET after part of the body: CURLE_RECV_ERROR"},
		{name: "garbage status line", handle: hostileGarbage,
			sync: curlUnsupportedProto, bg: map[string]int{to: curlUnsupportedProto},
			why: "a first line that is not HTTP is HTTP/0.9, refused by default since 7.66: " +
				"'Received HTTP/0.9 when not allowed', CURLE_UNSUPPORTED_PROTOCOL"},
		{name: "1 MiB of headers in 1 KiB lines", handle: hostileHeaders(1024),
			sync: curlRecvError, bg: map[string]int{to: curlRecvError},
			why: "the cumulative 300 KB response-header limit (7.88.1-10+deb12u*): " +
				"'Too large response headers', CURLE_RECV_ERROR"},
		{name: "1 MiB of headers in one line", handle: hostileHeaders(1 << 20),
			sync: curlOutOfMemory, bg: map[string]int{to: curlOutOfMemory},
			why: "one header line above CURL_MAX_HTTP_HEADER (100 KB) overflows curl's " +
				"header buffer: CURLE_OUT_OF_MEMORY"},
		{name: "endless chunked body", handle: hostileEndlessChunked,
			sync: curlTimeout,
			bg: map[string]int{to: curlTimeout,
				`{"timeout": 30, "max_file_size": 1048576}`: curlWriteError},
			why: "the body never ends: the total timeout (28); with max_file_size and no " +
				"Content-Length, Halon's write callback refuses the data: CURLE_WRITE_ERROR"},
		{name: "endless chunked body at full speed", handle: hostileEndlessFast(0),
			sync: curlWriteError, bg: map[string]int{to: curlWriteError},
			why: "libcurl hands every byte to the write callback; Kamailio's fails when its pkg " +
				"memory runs out, hc's at max_body_size (2 MiB here, 64 MiB by default), " +
				"long before the timeout: CURLE_WRITE_ERROR"},
		{name: "Content-Length above max_body_size", handle: hostileEndlessFast(4 << 20),
			sync: curlWriteError, bg: map[string]int{to: curlWriteError},
			why: "a declared 4 MiB body is read until the kept part would pass max_body_size " +
				"(2 MiB): CURLE_WRITE_ERROR"},
		{name: "one byte per second", handle: hostileTrickle,
			sync: curlTimeout, bg: map[string]int{to: curlTimeout}, atLeast: hostileBgTimeout,
			why: "CURLOPT_TIMEOUT bounds the whole transfer, not the gap between bytes: " +
				"CURLE_OPERATION_TIMEDOUT"},
		{name: "TLS listener sending garbage", handle: hostileTLSGarbage, https: true,
			sync: curlSSLConnect, bg: map[string]int{to: curlSSLConnect},
			why: "OpenSSL fails the handshake (wrong version number): CURLE_SSL_CONNECT_ERROR"},
		{name: "TLS stall mid-handshake", handle: hostileTLSStall, https: true,
			sync: curlTimeout,
			bg: map[string]int{to: curlTimeout,
				`{"connect_timeout": 0.7}`: curlTimeout},
			atLeast: hostileBgTimeout,
			why: "the handshake is part of the connect: the total or the connect timeout " +
				"ends it, CURLE_OPERATION_TIMEDOUT"},
		{name: "redirect to file://", handle: hostileRedirect("file:///etc/passwd"), keptIdle: 1,
			sync: curlUnsupportedProto, bg: map[string]int{`{"timeout": 0.7, "redirects": 5}`: curlUnsupportedProto},
			why: "file is never an allowed redirect protocol: CURLE_UNSUPPORTED_PROTOCOL"},
		{name: "redirect to gopher://", handle: hostileRedirect("gopher://127.0.0.1:1/x"), keptIdle: 1,
			sync: curlUnsupportedProto, bg: map[string]int{`{"timeout": 0.7, "redirects": -1}`: curlUnsupportedProto},
			why: "gopher is not in 7.88.1's default CURLOPT_REDIR_PROTOCOLS: CURLE_UNSUPPORTED_PROTOCOL"},
		{name: "redirect to ftp://", handle: hostileRedirect("ftp://127.0.0.1:1/x"), keptIdle: 1,
			sync: curlUnsupportedProto, bg: map[string]int{`{"timeout": 0.7, "redirects": 5}`: curlUnsupportedProto},
			why: "libcurl would follow ftp (7.88.1's default redirect protocols include it); " +
				"hc requests only http and https (a deliberate difference): CURLE_UNSUPPORTED_PROTOCOL"},
	}
}

// TestHostileServers runs every hostile case through the synchronous and the
// background front door at once, then checks that goroutines and descriptors return to
// their level before the case.
func TestHostileServers(t *testing.T) {
	bgtWatchdog(t, 120*time.Second)
	bgtWarmUp(t)
	e := bgtEngine(t, "connection_timeout = 1\nhttpredirect = 1\nmax_body_size = 2 MiB\npool = {\"id\": \"h\"}\n")
	// One successful request through each door first, so that whatever the engine and
	// the runtime create once (the completion queue's descriptor, the poller) exists
	// before the first baseline.
	ok := newBgtServer(t, bgtOK)
	if res := e.Query(ok.url("/"), nil, ""); res.CurlCode != 0 {
		t.Fatalf("warm-up sync call: %+v", res)
	}
	bgtSubmit(t, e, "h", ok.url("/"), nil)
	bgtPoll(t, e, 5*time.Second)
	ok.close(t)
	e.bg.pools["h"].conns.closeAll() // the warm-up's kept connection is not the cases'

	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			g0, fd0 := runtimeCounts(t)
			srv := newHostileServer(t, tc.handle)
			url := "http://" + srv.ln.Addr().String() + "/hostile"
			if tc.https {
				url = "https://" + srv.ln.Addr().String() + "/hostile"
			}
			bound := tc.bound
			if bound == 0 {
				bound = hostileSyncTimeout + hostileSlack
			}

			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				res := e.Query(url, nil, "")
				took := time.Since(t0)
				if res.Ret != tc.sync || res.CurlCode != tc.sync || res.Status != 0 {
					t.Errorf("sync: ret %d curl %d status %d (%s), want curl %d", res.Ret, res.CurlCode, res.Status, res.Message, tc.sync)
				}
				if took > bound || (tc.atLeast > 0 && took < hostileSyncTimeout-50*time.Millisecond) {
					t.Errorf("sync: returned after %v, want within %v (timeout %v)", took, bound, hostileSyncTimeout)
				}
				t.Logf("sync: curl %d after %v (%s)", res.CurlCode, took.Round(time.Millisecond), res.Message)
			}()

			started := make(map[uint64]time.Time, len(tc.bg))
			want := make(map[uint64]int, len(tc.bg))
			opts := make(map[uint64]string, len(tc.bg))
			for o, code := range tc.bg {
				id, err := e.SubmitRequest("h", Some(url), []byte(o), nil, false)
				if err != nil {
					t.Fatalf("submit %s: %v", o, err)
				}
				started[id], want[id], opts[id] = time.Now(), code, o
			}
			for range tc.bg {
				r := e.Poll(bound)
				if r == nil {
					t.Fatalf("background: no result within %v (pending %d)", bound, e.Pending())
				}
				took := time.Since(started[r.ID])
				code := want[r.ID]
				if r.Outcome != Completed || r.CurlCode != code || r.Error != CurlStrerror(code) || r.Status != 0 || r.Content != nil {
					t.Errorf("background %s: outcome %d curl %d %q status %d (%s), want curl %d",
						opts[r.ID], r.Outcome, r.CurlCode, r.Error, r.Status, r.Detail, code)
				}
				if tc.atLeast > 0 && took < tc.atLeast-50*time.Millisecond {
					t.Errorf("background %s: timed out after %v, before its %v", opts[r.ID], took, tc.atLeast)
				}
				t.Logf("background %s: curl %d after %v (%s)", opts[r.ID], r.CurlCode, took.Round(time.Millisecond), r.Detail)
			}
			wg.Wait()
			if tc.extra != nil {
				tc.extra(t)
			}

			// A connection that ended with a complete response (the 302s) is kept in
			// the pool's idle list, as libcurl keeps it in its connection cache: that
			// is not a leak. Count it, then close it, so that what remains is only
			// what the calls left behind.
			pool := e.bg.pools["h"].conns
			pool.mu.Lock()
			idle := len(pool.idle)
			pool.mu.Unlock()
			if idle > tc.keptIdle {
				t.Errorf("%d idle connections kept in the pool, want at most %d", idle, tc.keptIdle)
			}
			pool.closeAll()
			// The server stays up: its handlers end only when hc has closed its side, so
			// a connection hc kept or leaked would hold a goroutine and two descriptors.
			g, fd, settled := bgtSettle(5*time.Second, g0+1, fd0+1, func() int { return bgtFDs(t) })
			if !settled {
				t.Errorf("after the calls: %d goroutines (before the case %d, +1 for the server's accept loop), %d descriptors (before %d, +1 for the listener)\n%s",
					g, g0, fd, fd0, bgtStacks())
			}
			srv.close(t)
			if g, fd, settled := bgtSettle(5*time.Second, g0, fd0, func() int { return bgtFDs(t) }); !settled {
				t.Errorf("after the server closed: %d goroutines (baseline %d), %d descriptors (baseline %d)\n%s", g, g0, fd, fd0, bgtStacks())
			}
			t.Logf("libcurl 7.88.1: %s", tc.why)
		})
	}
}

// runtimeCounts returns the goroutines and descriptors of the process once they are
// stable (the previous case's last goroutines may still be exiting).
func runtimeCounts(t *testing.T) (int, int) {
	t.Helper()
	g, fd := 0, 0
	prev := ""
	bgtWaitFor(2*time.Second, func() bool {
		g, fd = runtime.NumGoroutine(), bgtFDs(t)
		cur := strconv.Itoa(g) + "/" + strconv.Itoa(fd)
		same := cur == prev
		prev = cur
		if !same {
			time.Sleep(50 * time.Millisecond)
		}
		return same
	})
	return g, fd
}

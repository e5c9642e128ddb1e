package engine

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

const ua = DefaultUserAgent

func TestHeadersOnTheWire(t *testing.T) {
	srv := newRawServer(t, func(r rawRequest) string { return httpResponse(200, "", "ok") })
	c := testConn("c1", "http", srv.addr()+"/api")
	noUA := testConn("noua", "http", srv.addr())
	noUA.UserAgent = Some("")
	e := newTestEngine(t, testConfig(c, noUA))
	long := strings.Repeat("x", 300)

	tests := []struct {
		name string
		call func() *Result
		line string
		head string // exact header block
		body string
	}{
		{"get", func() *Result { return e.HTTPConnect("c1", "/items?id=1", OptString{}, nil) },
			"GET /api/items?id=1 HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n", ""},
		{"post default ctype", func() *Result { return e.HTTPConnect("c1", "/p", OptString{}, []byte("a=1")) },
			"POST /api/p HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n", "a=1"},
		{"post empty ctype", func() *Result { return e.HTTPConnect("c1", "/p", Some(""), []byte("a=1&b=2")) },
			"POST /api/p HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\nContent-Length: 7\r\n", "a=1&b=2"},
		{"post long ctype cut to 241", func() *Result { return e.HTTPConnect("c1", "/p", Some(long), []byte("a")) },
			"POST /api/p HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\nContent-Type: " + long[:241] + "\r\nContent-Length: 1\r\n", "a"},
		{"empty data is GET", func() *Result { return e.HTTPConnect("c1", "/p", Some("application/json"), []byte{}) },
			"GET /api/p HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n", ""},
		{"body cut at NUL", func() *Result { return e.HTTPConnect("c1", "/p", Some("t/x"), []byte("ab\x00cd")) },
			"POST /api/p HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\nContent-Type: t/x\r\nContent-Length: 2\r\n", "ab"},
		{"no user agent", func() *Result { return e.HTTPConnect("noua", "", OptString{}, nil) },
			"GET / HTTP/1.1", "Host: " + srv.addr() + "\r\nAccept: */*\r\n", ""},
		{"query post form", func() *Result { return e.Query("http://"+srv.addr()+"/q", []byte("a=1"), "") },
			"POST /q HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\nContent-Length: 3\r\nContent-Type: application/x-www-form-urlencoded\r\n", "a=1"},
		{"query hdrs override ctype", func() *Result {
			return e.Query("http://"+srv.addr()+"/q", []byte("{}"), "Content-Type: application/json")
		}, "POST /q HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\nContent-Type: application/json\r\nContent-Length: 2\r\n", "{}"},
		{"query hdrs second line ctype is extra", func() *Result {
			return e.Query("http://"+srv.addr()+"/q", []byte("a=1"), "X-A: 1\r\nContent-Type: application/json")
		}, "POST /q HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\nX-A: 1\r\nContent-Type: application/json\r\nContent-Length: 3\r\nContent-Type: application/x-www-form-urlencoded\r\n", "a=1"},
		{"query hdrs without colon dropped", func() *Result {
			return e.Query("http://"+srv.addr()+"/q", nil, "application/json")
		}, "GET /q HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n", ""},
		{"query host override", func() *Result { return e.Query("http://"+srv.addr()+"/q", nil, "Host: other.example") },
			"GET /q HTTP/1.1", "Host: other.example\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n", ""},
		{"query accept removed", func() *Result { return e.Query("http://"+srv.addr()+"/q", nil, "Accept:") },
			"GET /q HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\n", ""},
		{"query url credentials preemptive basic", func() *Result { return e.Query("http://qu:qp@"+srv.addr()+"/q", nil, "") },
			"GET /q HTTP/1.1", "Host: " + srv.addr() + "\r\nAuthorization: Basic cXU6cXA=\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n", ""},
		{"client_get with body", func() *Result { return e.ClientGet("http://"+srv.addr()+"/g", []byte("payload=1"), "X-Token: abc") },
			"GET /g HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\nX-Token: abc\r\nContent-Length: 9\r\nContent-Type: application/x-www-form-urlencoded\r\n", "payload=1"},
		{"request POST without body", func() *Result { return e.Request("POST", "http://"+srv.addr()+"/r", nil, "") },
			"POST /r HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\n", ""},
		{"request DELETE with body", func() *Result { return e.Request("DELETE", "http://"+srv.addr()+"/r", []byte("x"), "") },
			"DELETE /r HTTP/1.1", "Host: " + srv.addr() + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\nContent-Length: 1\r\nContent-Type: application/x-www-form-urlencoded\r\n", "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.requests())
			res := tc.call()
			if res.Ret != 200 {
				t.Fatalf("ret %d (%s)", res.Ret, res.Message)
			}
			reqs := srv.requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if r.line != tc.line {
				t.Errorf("request line %q, want %q", r.line, tc.line)
			}
			if r.rawHdr != tc.head {
				t.Errorf("headers\n%q\nwant\n%q", r.rawHdr, tc.head)
			}
			if string(r.body) != tc.body {
				t.Errorf("body %q, want %q", r.body, tc.body)
			}
		})
	}
}

func TestResultRules(t *testing.T) {
	var body, status = "", 200
	var mu sync.Mutex
	srv := newRawServer(t, func(r rawRequest) string {
		mu.Lock()
		defer mu.Unlock()
		return httpResponse(status, "Content-Type: text/x-test\r\n", body)
	})
	c := testConn("c1", "http", srv.addr())
	c.MaxDataSize = 4
	cfg := testConfig(c, testConn("c2", "http", srv.addr()))
	cfg.QueryMaxDataSize = 5
	e := newTestEngine(t, cfg)
	q := func() *Result { return e.Query("http://"+srv.addr()+"/q", nil, "") }
	tests := []struct {
		name   string
		status int
		body   string
		call   func() *Result
		kept   bool
		want   string
	}{
		{"connect whole body", 200, "line1\nline2\r\n", func() *Result { return e.HTTPConnect("c2", "", OptString{}, nil) }, true, "line1\nline2\r\n"},
		{"connect maxdatasize", 200, "0123456789", func() *Result { return e.HTTPConnect("c1", "", OptString{}, nil) }, true, "0123"},
		{"404 kept and cut", 404, "not found", func() *Result { return e.HTTPConnect("c1", "", OptString{}, nil) }, true, "not "},
		{"500 dropped", 500, "boom", func() *Result { return e.HTTPConnect("c2", "", OptString{}, nil) }, false, ""},
		{"302 unfollowed kept", 302, "moved", func() *Result { return e.HTTPConnect("c2", "", OptString{}, nil) }, true, "moved"},
		{"empty body", 200, "", func() *Result { return e.HTTPConnect("c2", "", OptString{}, nil) }, true, ""},
		{"query first line keeps CR", 200, "line1\r\nline2", q, true, "line1\r"},
		{"query leading LF", 200, "\nsecond", q, true, ""},
		{"query no LF cut to max", 200, "abcdefghij", q, true, "abcde"},
		{"query long first line ignores max", 200, "abcdefghij\nk", q, true, "abcdefghij"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			status, body = tc.status, tc.body
			mu.Unlock()
			res := tc.call()
			if res.Ret != tc.status || res.Status != tc.status || res.CurlCode != 0 {
				t.Fatalf("ret %d status %d curl %d (%s)", res.Ret, res.Status, res.CurlCode, res.Message)
			}
			if res.BodyKept != tc.kept || string(res.Body) != tc.want {
				t.Errorf("kept %v body %q, want %v %q", res.BodyKept, res.Body, tc.kept, tc.want)
			}
			if res.ContentType != "text/x-test" || res.HTTPVersion != "HTTP/1.1" {
				t.Errorf("content type %q version %q", res.ContentType, res.HTTPVersion)
			}
			if !bytes.Contains(res.Header, []byte("Content-Type: text/x-test\r\n")) {
				t.Errorf("header block %q", res.Header)
			}
		})
	}
}

func TestCurlErrorMapping(t *testing.T) {
	closed := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		a := ln.Addr().String()
		ln.Close()
		return a
	}()
	empty := newRawServer(t, func(r rawRequest) string { return "" })
	slow := newRawServer(t, func(r rawRequest) string { time.Sleep(3 * time.Second); return httpResponse(200, "", "late") })
	stall := newRawServer(t, func(r rawRequest) string { time.Sleep(3 * time.Second); return "" })
	partial := replyAndClose(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
	badChunk := replyAndClose(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
	closeDelim := replyAndClose(t, "HTTP/1.1 200 OK\r\n\r\nuntil-close")
	plain := replyAndClose(t, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
	http09 := newRawServer(t, func(r rawRequest) string { return "garbage\r\n\r\n" })
	// reset: accept, read, then RST
	rstLn, _ := net.Listen("tcp", "127.0.0.1:0")
	t.Cleanup(func() { rstLn.Close() })
	go func() {
		for {
			c, err := rstLn.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1024)
			_, _ = c.Read(buf)
			_ = c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()

	mk := func(name, base string, timeout int) *Connection {
		c := testConn(name, "http", base)
		c.Timeout = timeout
		return c
	}
	tlsToPlain := mk("tlsplain", plain, 2)
	tlsToPlain.Scheme = "https"
	badVer := mk("badver", empty.addr(), 2)
	badVer.TLSVersion = 2
	badVer9 := mk("badver9", empty.addr(), 2)
	badVer9.TLSVersion = 9
	negTimeout := mk("negto", empty.addr(), -1)
	hugeTimeout := mk("hugeto", empty.addr(), maxTimeout+1)
	ftp := mk("ftp", empty.addr(), 2)
	ftp.Scheme = "ftp"
	cfg := testConfig(
		mk("refused", closed, 2), mk("empty", empty.addr(), 2), mk("slow", slow.addr(), 1),
		mk("stall", stall.addr(), 1), mk("partial", partial, 2), mk("badchunk", badChunk, 2), mk("http09", http09.addr(), 2),
		mk("reset", rstLn.Addr().String(), 2), tlsToPlain, badVer, badVer9, negTimeout, hugeTimeout, ftp,
		mk("space", empty.addr()+"/a b", 2),
	)
	e := newTestEngine(t, cfg)
	tests := []struct {
		con  string
		code int
	}{
		{"refused", 7}, {"empty", 52}, {"slow", 28}, {"stall", 28}, {"partial", 18}, {"badchunk", 56}, {"http09", 1},
		{"reset", 56}, {"tlsplain", 35}, {"badver", 43}, {"badver9", 43}, {"negto", 43}, {"hugeto", 43},
		{"ftp", 1}, {"space", 3},
	}
	for _, tc := range tests {
		t.Run(tc.con, func(t *testing.T) {
			start := time.Now()
			res := e.HTTPConnect(tc.con, "", OptString{}, nil)
			if res.Ret != tc.code || res.CurlCode != tc.code || res.Status != 0 || res.BodyKept {
				t.Fatalf("got ret %d curl %d status %d kept %v (%s), want %d", res.Ret, res.CurlCode, res.Status, res.BodyKept, res.Message, tc.code)
			}
			if tc.code == 28 && time.Since(start) > 2500*time.Millisecond {
				t.Errorf("timeout took %v", time.Since(start))
			}
			if res.Message == "" {
				t.Error("no message")
			}
		})
	}
	cfg2 := testConfig(mk("cd", closeDelim, 2))
	if res := newTestEngine(t, cfg2).HTTPConnect("cd", "", OptString{}, nil); res.Ret != 200 || string(res.Body) != "until-close" {
		t.Errorf("close-delimited body: %d %q", res.Ret, res.Body)
	}
	// unknown connection: -1, nothing counted
	_, ok0, fail0 := e.Counters()
	if res := e.HTTPConnect("nope", "/x", OptString{}, nil); res.Ret != -1 || res.BodyKept {
		t.Errorf("unknown connection: %+v", res)
	}
	if res := e.Query("", nil, ""); res.Ret != -1 {
		t.Errorf("empty query URL: %+v", res)
	}
	if _, ok1, fail1 := e.Counters(); ok1 != ok0 || fail1 != fail0 {
		t.Errorf("-1 cases counted: ok %d->%d fail %d->%d", ok0, ok1, fail0, fail1)
	}
}

func TestInterface(t *testing.T) {
	srv := newRawServer(t, func(r rawRequest) string { return httpResponse(200, "", "ok") })
	for _, tc := range []struct {
		iface string
		want  int
	}{{"lo", 200}, {"127.0.0.1", 200}, {"nosuchif0", 45}, {"if!nosuchif0", 45}} {
		cfg := testConfig(testConn("c1", "http", srv.addr()))
		cfg.NetInterface = Some(tc.iface)
		e := newTestEngine(t, cfg)
		if res := e.HTTPConnect("c1", "", OptString{}, nil); res.Ret != tc.want {
			t.Errorf("netinterface %q: ret %d (%s), want %d", tc.iface, res.Ret, res.Message, tc.want)
		}
	}
}

func TestProxy(t *testing.T) {
	proxy := newRawServer(t, func(r rawRequest) string { return httpResponse(200, "", "via proxy") })
	cfg := testConfig()
	cfg.Defaults.HTTPProxy = Some("http://" + proxy.addr())
	c := testConn("noport", "http", "upstream.invalid")
	c.HTTPProxy = Some("http://" + proxy.addr()) // ignored: port 0
	withPort := testConn("withport", "http", "upstream.invalid/x")
	withPort.HTTPProxy = Some(strings.Split(proxy.addr(), ":")[0])
	withPort.HTTPProxyPort = proxy.ln.Addr().(*net.TCPAddr).Port
	cfg.Connections = []*Connection{c, withPort}
	e := newTestEngine(t, cfg)

	res := e.Query("http://upstream.invalid/q", nil, "")
	if res.Ret != 200 || string(res.Body) != "via proxy" {
		t.Fatalf("query via proxy: %+v", res)
	}
	r := proxy.requests()[0]
	if r.line != "GET http://upstream.invalid/q HTTP/1.1" {
		t.Errorf("request line %q", r.line)
	}
	if got := r.header("Proxy-Connection"); len(got) != 1 || got[0] != "Keep-Alive" {
		t.Errorf("Proxy-Connection %q", got)
	}
	if res := e.HTTPConnect("noport", "/x", OptString{}, nil); res.Ret != 6 {
		t.Errorf("connection proxy without port must go direct (DNS failure 6), got %d (%s)", res.Ret, res.Message)
	}
	if res := e.HTTPConnect("withport", "", OptString{}, nil); res.Ret != 200 {
		t.Errorf("connection proxy with port: %d (%s)", res.Ret, res.Message)
	}
}

func TestRedirects(t *testing.T) {
	srv := newRawServer(t, func(r rawRequest) string {
		path := strings.Fields(r.line)[1]
		switch path {
		case "/p302":
			return httpResponse(302, "Location: /final\r\n", "moved")
		case "/p307":
			return httpResponse(307, "Location: final\r\n", "moved")
		case "/p303":
			return httpResponse(303, "Location: http://"+r.header("Host")[0]+"/final?x=1\r\n", "")
		case "/ftp":
			return httpResponse(302, "Location: ftp://example.com/x\r\n", "")
		case "/loop":
			// big headers so curl's cumulative 300 KB limit is reached quickly
			return httpResponse(302, "Location: /loop\r\nX-Pad: "+strings.Repeat("p", 20000)+"\r\n", "again")
		}
		return httpResponse(200, "", strings.Fields(r.line)[0]+" "+path+" "+string(r.body))
	})
	on := testConn("on", "http", srv.addr())
	on.HTTPRedirect = 1
	off := testConn("off", "http", srv.addr())
	e := newTestEngine(t, testConfig(on, off))

	res := e.HTTPConnect("off", "/p302", OptString{}, nil)
	if res.Ret != 302 || string(res.Body) != "moved" {
		t.Errorf("redirects off: %d %q", res.Ret, res.Body)
	}
	if u, ret := e.GetRedirect("off"); ret != 1 || u != "http://"+srv.addr()+"/p302" {
		t.Errorf("GetRedirect after unfollowed 302: %q %d", u, ret)
	}

	before := len(srv.requests())
	res = e.HTTPConnect("on", "/p302", Some("text/plain"), []byte("payload"))
	if res.Ret != 200 || string(res.Body) != "GET /final " {
		t.Errorf("POST 302: %d %q", res.Ret, res.Body)
	}
	reqs := srv.requests()[before:]
	if len(reqs) != 2 || reqs[1].header("Content-Type")[0] != "text/plain" || len(reqs[1].header("Content-Length")) != 0 {
		t.Errorf("POST->GET keeps Content-Type, drops body: %+v", reqs)
	}
	if reqs[0].conn != reqs[1].conn {
		t.Error("redirect did not reuse the connection")
	}
	if u, _ := e.GetRedirect("on"); u != "http://"+srv.addr()+"/final" {
		t.Errorf("GetRedirect = %q", u)
	}

	res = e.HTTPConnect("on", "/p307", Some("text/plain"), []byte("payload"))
	if res.Ret != 200 || string(res.Body) != "POST /final payload" {
		t.Errorf("POST 307: %d %q", res.Ret, res.Body)
	}
	res = e.HTTPConnect("on", "/p303", Some("text/plain"), []byte("payload"))
	if res.Ret != 200 || string(res.Body) != "GET /final?x=1 " {
		t.Errorf("POST 303: %d %q", res.Ret, res.Body)
	}
	res = e.HTTPConnect("on", "/ftp", OptString{}, nil)
	if res.Ret != 1 {
		t.Errorf("redirect to ftp: %d", res.Ret)
	}
	if u, _ := e.GetRedirect("on"); u != "" {
		t.Errorf("GetRedirect after error = %q", u)
	}
	before = len(srv.requests())
	res = e.HTTPConnect("on", "/loop", OptString{}, nil)
	n := len(srv.requests()) - before
	// each response head is ~20 KB: the 16th crosses 300 KB
	if res.Ret != 56 || n < 10 || n > 20 {
		t.Errorf("redirect loop: ret %d after %d requests", res.Ret, n)
	}
	if _, ret := e.GetRedirect("nope"); ret != -1 {
		t.Errorf("GetRedirect unknown: %d", ret)
	}
}

func TestFailoverAndCounters(t *testing.T) {
	srv := newRawServer(t, func(r rawRequest) string {
		switch strings.Fields(r.line)[1] {
		case "/primary/x":
			return httpResponse(500, "", "primary failed")
		case "/ok/x":
			return httpResponse(200, "", "from secondary")
		case "/nf/x":
			return httpResponse(404, "", "nf")
		}
		return httpResponse(201, "", "created")
	})
	closed := "127.0.0.1:1"
	c1 := testConn("c1", "http", srv.addr()+"/primary")
	c1.Failover = "c2"
	c2 := testConn("c2", "http", srv.addr()+"/ok")
	r1 := testConn("r1", "http", closed+"/a")
	r1.Failover = "r2"
	r2 := testConn("r2", "http", closed+"/b")
	r2.Failover = "c2" // never tried: one hop only
	u1 := testConn("u1", "http", closed)
	u1.Failover = "nope"
	n1 := testConn("n1", "http", srv.addr()+"/nf")
	n1.Failover = "c2"
	e := newTestEngine(t, testConfig(c1, c2, r1, r2, u1, n1))

	check := func(name string, res *Result, ret int, body string, dOK, dFail uint64, prev [2]uint64) [2]uint64 {
		t.Helper()
		_, ok, fail := e.Counters()
		if res.Ret != ret || string(res.Body) != body {
			t.Errorf("%s: ret %d body %q, want %d %q", name, res.Ret, res.Body, ret, body)
		}
		if ok-prev[0] != dOK || fail-prev[1] != dFail {
			t.Errorf("%s: connok +%d connfail +%d, want +%d +%d", name, ok-prev[0], fail-prev[1], dOK, dFail)
		}
		return [2]uint64{ok, fail}
	}
	conns, _, _ := e.Counters()
	if conns != 6 {
		t.Errorf("connections = %d", conns)
	}
	var p [2]uint64
	before := len(srv.requests())
	p = check("500 -> c2", e.HTTPConnect("c1", "/x", Some("text/plain"), []byte("the-body")), 200, "from secondary", 1, 1, p)
	reqs := srv.requests()[before:]
	if len(reqs) != 2 || string(reqs[1].body) != "the-body" || reqs[0].conn == reqs[1].conn {
		t.Errorf("failover must resend the body on a new connection: %+v", reqs)
	}
	p = check("both refuse, one hop", e.HTTPConnect("r1", "/x", OptString{}, nil), 7, "", 0, 2, p)
	p = check("unknown failover", e.HTTPConnect("u1", "/x", OptString{}, nil), -1, "", 0, 1, p)
	p = check("404 no failover", e.HTTPConnect("n1", "/x", OptString{}, nil), 404, "nf", 0, 1, p)
	p = check("201 is connfail", e.HTTPConnect("c2", "/y", OptString{}, nil), 201, "created", 0, 1, p)
	_ = check("query 200 is connok", e.Query("http://"+srv.addr()+"/ok/x", nil, ""), 200, "from secondary", 1, 0, p)
}

func TestKeepConnections(t *testing.T) {
	srv := newRawServer(t, func(r rawRequest) string { return httpResponse(200, "", "ok") })
	keep := testConn("keep", "http", srv.addr())
	keep.KeepConnections = 1
	e := newTestEngine(t, testConfig(keep, testConn("nokeep", "http", srv.addr())))
	for i := 0; i < 3; i++ {
		if res := e.HTTPConnect("keep", "/k", OptString{}, nil); res.Ret != 200 {
			t.Fatal(res.Message)
		}
	}
	if n := srv.conns(); n != 1 {
		t.Errorf("keep_connections=1: %d TCP connections for 3 calls", n)
	}
	for i := 0; i < 2; i++ {
		e.HTTPConnect("nokeep", "/k", OptString{}, nil)
		e.Query("http://"+srv.addr()+"/q", nil, "")
	}
	if n := srv.conns(); n != 5 {
		t.Errorf("keep_connections=0 and queries: %d TCP connections, want 5", n)
	}
	for _, r := range srv.requests() {
		if len(r.header("Connection")) != 0 {
			t.Errorf("Connection header sent: %q", r.header("Connection"))
		}
	}
}

func TestKeptConnectionClosedByServer(t *testing.T) {
	// The server closes after every response without saying so: the kept connection is
	// dead at the next call and must be replaced transparently.
	addr := replyAndClose(t, httpResponse(200, "", "ok"))
	keep := testConn("keep", "http", addr)
	keep.KeepConnections = 1
	e := newTestEngine(t, testConfig(keep))
	for i := 0; i < 3; i++ {
		if res := e.HTTPConnect("keep", "/k", OptString{}, nil); res.Ret != 200 {
			t.Fatalf("call %d: %d %s", i, res.Ret, res.Message)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestConcurrentKeptConnections(t *testing.T) {
	srv := newRawServer(t, func(r rawRequest) string {
		return httpResponse(200, "", strings.Fields(r.line)[1])
	})
	keep := testConn("keep", "http", srv.addr())
	keep.KeepConnections = 1
	e := newTestEngine(t, testConfig(keep, testConn("nokeep", "http", srv.addr())))
	const workers, calls = 32, 20
	var wg sync.WaitGroup
	errs := make(chan string, workers*calls)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				con := "keep"
				if i%4 == 3 {
					con = "nokeep"
				}
				path := "/w" + string(rune('a'+w%26)) + "/" + string(rune('a'+i%26))
				res := e.HTTPConnect(con, path, OptString{}, nil)
				if res.Ret != 200 || string(res.Body) != path {
					errs <- res.Message + " " + string(res.Body) + " != " + path
				}
				if _, ret := e.GetRedirect(con); ret != 1 {
					errs <- "GetRedirect"
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	_, ok, fail := e.Counters()
	if ok != workers*calls || fail != 0 {
		t.Errorf("counters ok %d fail %d", ok, fail)
	}
	// every nokeep call opens one connection; kept ones are at most one per concurrent caller
	if n := srv.conns(); n > workers*calls/4+workers {
		t.Errorf("%d connections: kept connections not reused", n)
	}
}

func TestCurlErrorText(t *testing.T) {
	tests := map[int]string{
		-1: "Bad CURL error code", 0: "No error", 6: "Couldn't resolve host name", 7: "Couldn't connect to server",
		28: "Timeout was reached", 60: "SSL peer certificate or SSH remote key was not OK",
		99: "Unrecoverable error in select/poll", 100: "HTTP result code", 404: "HTTP result code",
		999: "HTTP result code", 1000: "HTTP result code",
	}
	for n, want := range tests {
		if got := CurlErrorText(n); got != want {
			t.Errorf("CurlErrorText(%d) = %q, want %q", n, got, want)
		}
	}
	if CurlStrerror(100) != "Unknown error" || CurlStrerror(-3) != "Unknown error" || CurlStrerror(20) != "Unknown error" {
		t.Error("unknown codes")
	}
	for i := 0; i < 100; i++ {
		if CurlStrerror(i) == "" {
			t.Errorf("missing text for %d", i)
		}
	}
}

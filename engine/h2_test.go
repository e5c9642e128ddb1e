// Tests of HTTP/2 over TLS (h2.go): what arrives at an HTTP/2 server, the result, redirects,
// Digest, maxdatasize, connection reuse, and the curl codes of HTTP/2 failures; plus the
// HTTP/1.1 fallback when the server does not select h2.

package engine

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// h2Seen is one request as an HTTP/2 (or HTTP/1.1) test server saw it.
type h2Seen struct {
	proto  int
	method string
	uri    string
	host   string
	header http.Header
	body   string
	remote string
}

type h2TestServer struct {
	srv  *httptest.Server
	ca   string
	addr string // host:port
	alpn []string

	mu   sync.Mutex
	seen []h2Seen
}

type h2ConnCtxKey struct{}

// newH2TestServer starts an HTTPS server (HTTP/2 enabled when h2) whose CA goes to a temp
// file; every request is recorded before handler runs.
func newH2TestServer(t *testing.T, h2 bool, handler http.HandlerFunc) *h2TestServer {
	t.Helper()
	s := &h2TestServer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, h2Seen{proto: r.ProtoMajor, method: r.Method, uri: r.RequestURI, host: r.Host,
			header: r.Header.Clone(), body: string(body), remote: r.RemoteAddr})
		s.mu.Unlock()
		handler(w, r)
	}))
	srv.EnableHTTP2 = h2
	srv.TLS = &tls.Config{
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			s.mu.Lock()
			s.alpn = append([]string(nil), hello.SupportedProtos...)
			s.mu.Unlock()
			return nil, nil
		},
	}
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, h2ConnCtxKey{}, c)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.srv = srv
	s.ca, _ = writePEM(t, t.TempDir(), "ca", srv.Certificate().Raw, nil)
	s.addr = strings.TrimPrefix(srv.URL, "https://")
	return s
}

func (s *h2TestServer) requests() []h2Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]h2Seen(nil), s.seen...)
}

func (s *h2TestServer) offered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alpn
}

// engine returns an engine trusting the server's CA with the given connections.
func (s *h2TestServer) engine(t *testing.T, conns ...*Connection) *Engine {
	cfg := testConfig(conns...)
	cfg.CACert = Some(s.ca)
	return newTestEngine(t, cfg)
}

func distinctRemotes(seen []h2Seen) int {
	m := map[string]bool{}
	for _, r := range seen {
		m[r.remote] = true
	}
	return len(m)
}

func TestH2Requests(t *testing.T) {
	s := newH2TestServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/x-h2")
		w.Header().Add("X-Reply", "a")
		w.Header().Add("X-Reply", "b")
		fmt.Fprint(w, "ok")
	})
	c := testConn("c", "https", s.addr+"/api")
	slash := testConn("slash", "https", s.addr+"/api/")
	noUA := testConn("noua", "https", s.addr)
	noUA.UserAgent = Some("")
	e := s.engine(t, c, slash, noUA)
	base := "https://" + s.addr

	uaAccept := http.Header{"User-Agent": {ua}, "Accept": {"*/*"}}
	with := func(kv ...string) http.Header {
		h := uaAccept.Clone()
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = append(h[kv[i]], kv[i+1])
		}
		return h
	}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name   string
		call   func() *Result
		method string
		uri    string
		host   string
		header http.Header
		body   string
	}{
		{"connect get", func() *Result { return e.HTTPConnect("c", "/items?id=1", OptString{}, nil) },
			"GET", "/api/items?id=1", s.addr, uaAccept, ""},
		{"connect post default ctype", func() *Result { return e.HTTPConnect("c", "/p", OptString{}, []byte("a=1")) },
			"POST", "/api/p", s.addr, with("Content-Type", "text/plain", "Content-Length", "3"), "a=1"},
		{"connect post empty ctype", func() *Result { return e.HTTPConnect("c", "/p", Some(""), []byte("a=1&b=2")) },
			"POST", "/api/p", s.addr, with("Content-Length", "7"), "a=1&b=2"},
		{"body cut at NUL", func() *Result { return e.HTTPConnect("c", "/p", Some("t/x"), []byte("ab\x00cd")) },
			"POST", "/api/p", s.addr, with("Content-Type", "t/x", "Content-Length", "2"), "ab"},
		{"no user agent", func() *Result { return e.HTTPConnect("noua", "", OptString{}, nil) },
			"GET", "/", s.addr, http.Header{"Accept": {"*/*"}}, ""},
		{"double slash kept", func() *Result { return e.HTTPConnect("slash", "/x?q", OptString{}, nil) },
			"GET", "/api//x?q", s.addr, uaAccept, ""},
		{"query post form", func() *Result { return e.Query(base+"/q", []byte("a=1"), "") },
			"POST", "/q", s.addr, with("Content-Length", "3", "Content-Type", form), "a=1"},
		{"query hdrs: connection-specific fields dropped, te trailers kept", func() *Result {
			return e.Query(base+"/q", nil, "X-A:  1 \r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nTE: deflate, Trailers\r\n"+
				"Transfer-Encoding: chunked\r\nUpgrade: h2c\r\nProxy-Connection: Keep-Alive")
		}, "GET", "/q", s.addr, with("X-A", "1 ", "Te", "trailers"), ""},
		{"query hdrs te without trailers dropped", func() *Result { return e.Query(base+"/q", nil, "TE: gzip") },
			"GET", "/q", s.addr, uaAccept, ""},
		{"query host becomes authority", func() *Result { return e.Query(base+"/q", nil, "Host: other.example") },
			"GET", "/q", "other.example", uaAccept, ""},
		{"query hdrs content-type replaces the form default", func() *Result {
			return e.Query(base+"/q", []byte("{}"), "Content-Type: application/json")
		}, "POST", "/q", s.addr, with("Content-Type", "application/json", "Content-Length", "2"), "{}"},
		{"query accept removed", func() *Result { return e.Query(base+"/q", nil, "Accept:") },
			"GET", "/q", s.addr, http.Header{"User-Agent": {ua}}, ""},
		{"query url credentials preemptive basic", func() *Result { return e.Query("https://qu:qp@"+s.addr+"/q", nil, "") },
			"GET", "/q", s.addr, with("Authorization", "Basic cXU6cXA="), ""},
		{"client_get with body", func() *Result { return e.ClientGet(base+"/g", []byte("payload=1"), "X-Token: abc") },
			"GET", "/g", s.addr, with("X-Token", "abc", "Content-Length", "9", "Content-Type", form), "payload=1"},
		{"request POST without body has no content-length", func() *Result { return e.Request("POST", base+"/r", nil, "") },
			"POST", "/r", s.addr, uaAccept, ""},
		{"request DELETE with body", func() *Result { return e.Request("DELETE", base+"/r", []byte("x"), "") },
			"DELETE", "/r", s.addr, with("Content-Length", "1", "Content-Type", form), "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.requests())
			res := tc.call()
			if res.Ret != 200 || string(res.Body) != "ok" {
				t.Fatalf("ret %d body %q (%s)", res.Ret, res.Body, res.Message)
			}
			if res.HTTPVersion != "HTTP/2" || res.ContentType != "text/x-h2" {
				t.Errorf("version %q content type %q", res.HTTPVersion, res.ContentType)
			}
			hdr := string(res.Header)
			if !strings.Contains(hdr, "content-type: text/x-h2\r\n") || !strings.Contains(hdr, "x-reply: a\r\nx-reply: b\r\n") {
				t.Errorf("header block %q", hdr)
			}
			reqs := s.requests()
			if len(reqs) != before+1 {
				t.Fatalf("%d requests, want 1", len(reqs)-before)
			}
			r := reqs[before]
			if r.proto != 2 || r.method != tc.method || r.uri != tc.uri || r.host != tc.host || r.body != tc.body {
				t.Errorf("got HTTP/%d %s %s host %q body %q", r.proto, r.method, r.uri, r.host, r.body)
			}
			if !reflect.DeepEqual(r.header, tc.header) {
				t.Errorf("header\n got %v\nwant %v", r.header, tc.header)
			}
		})
	}
	if got := s.offered(); !reflect.DeepEqual(got, []string{"h2", "http/1.1"}) {
		t.Errorf("ALPN offered %q", got)
	}
	if url, _ := e.GetRedirect("c"); url != base+"/api/p" {
		t.Errorf("effective URL of the last call on c: %q", url)
	}
	if ct, _ := e.ContentType("c"); ct != "text/x-h2" {
		t.Errorf("content type of the last call on c: %q", ct)
	}
}

func TestH2HeaderConversionFailures(t *testing.T) {
	s := newH2TestServer(t, true, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	e := s.engine(t)
	url := "https://" + s.addr + "/q"
	for _, tc := range []struct {
		hdrs string
		want int
	}{
		// curl 7.88.1 fails these with 27 on HTTP/2 and sends them verbatim on HTTP/1.1;
		// hc refuses them on both before sending (-1, header injection: inputcheck.go).
		{"X-A: 1\r\nno colon", -1},
		{"X-A: 1\r\n\r\nX-B: 2", -1},         // empty line
		{"X-A: 1\r\n X-B: 2", -1},            // folded line
		{"Foo Bar: x", curlHTTP2StreamError}, // curl sends it; servers reset the stream
		{"X-A: 1\r\nX-B: 2", 200},
	} {
		if res := e.Query(url, nil, tc.hdrs); res.Ret != tc.want {
			t.Errorf("hdrs %q: ret %d (%s), want %d", tc.hdrs, res.Ret, res.Message, tc.want)
		}
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests reached the server, want 1", n)
	}
}

func TestH2RedirectAndCounters(t *testing.T) {
	s := newH2TestServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/r":
			w.Header().Set("Location", "/api/final?x=1")
			w.WriteHeader(302)
			fmt.Fprint(w, "moved")
		default:
			w.Header().Set("Content-Type", "text/final")
			fmt.Fprint(w, "done")
		}
	})
	c := testConn("c", "https", s.addr+"/api")
	c.HTTPRedirect = 1
	e := s.engine(t, c)
	res := e.HTTPConnect("c", "/r", Some("text/plain"), []byte("a=1"))
	if res.Ret != 200 || string(res.Body) != "done" || res.ContentType != "text/final" || res.HTTPVersion != "HTTP/2" {
		t.Fatalf("ret %d body %q ct %q version %q (%s)", res.Ret, res.Body, res.ContentType, res.HTTPVersion, res.Message)
	}
	if want := "https://" + s.addr + "/api/final?x=1"; res.EffectiveURL != want {
		t.Errorf("effective URL %q", res.EffectiveURL)
	}
	reqs := s.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	if reqs[0].method != "POST" || reqs[0].body != "a=1" || reqs[1].method != "GET" || reqs[1].body != "" ||
		reqs[1].uri != "/api/final?x=1" || reqs[1].proto != 2 {
		t.Errorf("requests %+v", reqs)
	}
	// POST->GET drops the body and its length; Kamailio's own Content-Type header stays.
	if _, ok := reqs[1].header["Content-Length"]; ok || reqs[1].header.Get("Content-Type") != "text/plain" {
		t.Errorf("redirected GET header %v", reqs[1].header)
	}
	if reqs[0].remote != reqs[1].remote {
		t.Errorf("the redirect did not reuse the HTTP/2 connection: %s, %s", reqs[0].remote, reqs[1].remote)
	}
	if _, ok, fail := e.Counters(); ok != 1 || fail != 0 {
		t.Errorf("counters connok %d connfail %d", ok, fail)
	}
}

func TestH2Digest(t *testing.T) {
	d := &digestServer{qop: true, algo: "MD5", nonce: "n0nce"}
	d.challenge = func(bool) string { return `Digest realm="oracle", nonce="` + d.nonce + `", qop="auth", algorithm=MD5` }
	s := newH2TestServer(t, true, d.ServeHTTP)
	c := testConn("c", "https", s.addr+"/api")
	c.Username, c.Password = Some("au"), Some("ap")
	e := s.engine(t, c)
	res := e.HTTPConnect("c", "/auth?x=1", Some("text/plain"), []byte("body"))
	if res.Ret != 200 || string(res.Body) != "secret" {
		t.Fatalf("ret %d body %q (%s)", res.Ret, res.Body, res.Message)
	}
	reqs := s.requests()
	if len(reqs) != 2 || reqs[0].proto != 2 || reqs[1].proto != 2 {
		t.Fatalf("requests %+v", reqs)
	}
	if reqs[0].header.Get("Authorization") != "" || !strings.Contains(reqs[1].header.Get("Authorization"), `uri="/api/auth?x=1"`) {
		t.Errorf("authorization: %q then %q", reqs[0].header.Get("Authorization"), reqs[1].header.Get("Authorization"))
	}
	if reqs[1].body != "body" {
		t.Errorf("body of the authenticated request %q", reqs[1].body)
	}
}

func TestH2MaxDataSize(t *testing.T) {
	s := newH2TestServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("0123456789", 10000))
	})
	c := testConn("c", "https", s.addr)
	c.MaxDataSize = 15
	e := s.engine(t, c)
	res := e.HTTPConnect("c", "/", OptString{}, nil)
	if res.Ret != 200 || string(res.Body) != "012345678901234" {
		t.Fatalf("ret %d body %q (%s)", res.Ret, res.Body, res.Message)
	}
}

func TestH2KeepConnections(t *testing.T) {
	s := newH2TestServer(t, true, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	kept := testConn("kept", "https", s.addr)
	kept.KeepConnections = 1
	fresh := testConn("fresh", "https", s.addr)
	e := s.engine(t, kept, fresh)
	for i := 0; i < 3; i++ {
		if res := e.HTTPConnect("kept", "/k", OptString{}, nil); res.Ret != 200 || res.HTTPVersion != "HTTP/2" {
			t.Fatalf("kept call %d: %d %s (%s)", i, res.Ret, res.HTTPVersion, res.Message)
		}
	}
	if n := distinctRemotes(s.requests()); n != 1 {
		t.Errorf("keep_connections: %d connections for 3 calls, want 1", n)
	}
	before := len(s.requests())
	for i := 0; i < 3; i++ {
		if res := e.HTTPConnect("fresh", "/f", OptString{}, nil); res.Ret != 200 {
			t.Fatalf("fresh call %d: %d (%s)", i, res.Ret, res.Message)
		}
	}
	if n := distinctRemotes(s.requests()[before:]); n != 3 {
		t.Errorf("without keep_connections: %d connections for 3 calls, want 3", n)
	}
}

func TestH2Timeout(t *testing.T) {
	s := newH2TestServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, "partial")
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	c := testConn("c", "https", s.addr)
	c.Timeout = 1
	e := s.engine(t, c)
	for _, path := range []string{"/head", "/body"} {
		start := time.Now()
		res := e.HTTPConnect("c", path, OptString{}, nil)
		if res.Ret != curlTimeout || res.BodyKept {
			t.Errorf("%s: ret %d kept %v (%s), want 28", path, res.Ret, res.BodyKept, res.Message)
		}
		if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
			t.Errorf("%s: timed out after %v, want about 1s", path, d)
		}
	}
}

func TestH2StreamErrors(t *testing.T) {
	s := newH2TestServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/reset":
			panic(http.ErrAbortHandler) // RST_STREAM INTERNAL_ERROR
		case "/reset-body":
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, "partial")
			w.(http.Flusher).Flush()
			time.Sleep(50 * time.Millisecond)
			panic(http.ErrAbortHandler)
		case "/close", "/close-body":
			if r.URL.Path == "/close-body" {
				w.Header().Set("Content-Length", "100")
				fmt.Fprint(w, "partial")
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
			_ = r.Context().Value(h2ConnCtxKey{}).(net.Conn).Close()
		default:
			fmt.Fprint(w, "ok")
		}
	})
	c := testConn("c", "https", s.addr)
	c.KeepConnections = 1
	e := s.engine(t, c)
	for _, tc := range []struct {
		path string
		want []int
	}{
		{"/reset", []int{curlHTTP2StreamError}},
		{"/reset-body", []int{curlHTTP2StreamError}},
		// curl 7.88.1: 18, "not closed cleanly before end of the underlying stream". When the
		// server's close finds client frames still unread in its socket, its kernel sends a
		// reset instead of a FIN, and the read fails with ECONNRESET: 56, in curl too.
		{"/close", []int{curlPartialFile, curlRecvError}},
		{"/close-body", []int{curlPartialFile, curlRecvError}},
	} {
		res := e.HTTPConnect("c", tc.path, OptString{}, nil)
		if !slices.Contains(tc.want, res.Ret) || res.CurlCode != res.Ret || res.BodyKept {
			t.Errorf("%s: ret %d (%s), want one of %v", tc.path, res.Ret, res.Message, tc.want)
		}
	}
	// A reset stream leaves the connection usable, as curl does.
	before := len(s.requests())
	if res := e.HTTPConnect("c", "/reset", OptString{}, nil); res.Ret != curlHTTP2StreamError {
		t.Fatalf("reset: %d", res.Ret)
	}
	if res := e.HTTPConnect("c", "/ok", OptString{}, nil); res.Ret != 200 {
		t.Fatalf("after reset: %d (%s)", res.Ret, res.Message)
	}
	if reqs := s.requests()[before:]; len(reqs) != 2 || reqs[0].remote != reqs[1].remote {
		t.Errorf("the connection was not kept after a stream reset: %+v", reqs)
	}
	if _, ok, fail := e.Counters(); ok != 1 || fail != 5 {
		t.Errorf("counters connok %d connfail %d", ok, fail)
	}
}

// rawH2Server is a TLS server selecting h2 that reads the client preface, sends its
// SETTINGS and then lets serve misbehave at the frame level. It counts connections.
func rawH2Server(t *testing.T, serve func(c net.Conn)) (addr string, conns func() int) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	cert := ts.TLS.Certificates[0]
	ts.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	n := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.ReadFull(c, make([]byte, 24)); err != nil {
					return
				}
				if _, err := c.Write([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0}); err != nil { // SETTINGS
					return
				}
				serve(c)
			}()
		}
	}()
	return ln.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// awaitHeaders reads client frames until a HEADERS frame (type 1) arrived.
func awaitHeaders(c net.Conn) error {
	hdr := make([]byte, 9)
	for {
		if _, err := io.ReadFull(c, hdr); err != nil {
			return err
		}
		n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
		if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
			return err
		}
		if hdr[3] == 1 {
			return nil
		}
	}
}

func TestH2ConnectionErrors(t *testing.T) {
	goAway := func(code byte) func(net.Conn) {
		return func(c net.Conn) {
			if awaitHeaders(c) != nil {
				return
			}
			_, _ = c.Write([]byte{0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, code}) // GOAWAY, last stream 0
			time.Sleep(200 * time.Millisecond)
		}
	}
	refuse := func(c net.Conn) {
		if awaitHeaders(c) != nil {
			return
		}
		_, _ = c.Write([]byte{0, 0, 4, 3, 0, 0, 0, 0, 1, 0, 0, 0, 7}) // RST_STREAM 1 REFUSED_STREAM
		time.Sleep(200 * time.Millisecond)
	}
	goAwayAfterHead := func(c net.Conn) {
		if awaitHeaders(c) != nil {
			return
		}
		_, _ = c.Write([]byte{0, 0, 1, 1, 4, 0, 0, 0, 1, 0x88})                   // HEADERS :status 200
		_, _ = c.Write([]byte{0, 0, 2, 0, 0, 0, 0, 0, 1, 'h', 'i'})               // DATA "hi"
		_, _ = c.Write([]byte{0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}) // GOAWAY, last stream 1
		time.Sleep(50 * time.Millisecond)                                         // then close
	}
	garbage := func(c net.Conn) {
		_, _ = c.Write([]byte{0, 0, 1, 0, 0, 0, 0, 0, 0, 'x'}) // DATA on stream 0: PROTOCOL_ERROR
		time.Sleep(200 * time.Millisecond)
	}
	for _, tc := range []struct {
		name  string
		serve func(net.Conn)
		want  int
		conns int
	}{
		{"GOAWAY PROTOCOL_ERROR", goAway(1), curlHTTP2Error, 1},
		{"GOAWAY NO_ERROR", goAway(0), curlHTTP2Error, 1},
		{"GOAWAY after the head, then close", goAwayAfterHead, curlPartialFile, 1}, // curl 7.88.1: 18
		{"bad frame", garbage, curlHTTP2Error, 1},
		{"refused stream retried once", refuse, curlRecvError, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, conns := rawH2Server(t, tc.serve)
			c := testConn("c", "https", addr)
			c.VerifyPeer, c.VerifyHost = 0, 0
			e := newTestEngine(t, testConfig(c))
			start := time.Now()
			res := e.HTTPConnect("c", "/", OptString{}, nil)
			if res.Ret != tc.want {
				t.Errorf("ret %d (%s), want %d", res.Ret, res.Message, tc.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if n := conns(); n != tc.conns {
				t.Errorf("%d connections, want %d", n, tc.conns)
			}
		})
	}
}

// TestH2ThroughConnectProxy: h2 is offered to the origin inside an https CONNECT tunnel.
func TestH2ThroughConnectProxy(t *testing.T) {
	s := newH2TestServer(t, true, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var connects []string
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil || req.Method != "CONNECT" {
					return
				}
				mu.Lock()
				connects = append(connects, req.Host)
				mu.Unlock()
				up, err := net.Dial("tcp", req.Host)
				if err != nil {
					return
				}
				defer up.Close()
				_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				go func() { _, _ = io.Copy(up, c); up.Close() }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	c := testConn("c", "https", s.addr)
	c.HTTPProxy = Some("127.0.0.1")
	c.HTTPProxyPort = ln.Addr().(*net.TCPAddr).Port
	e := s.engine(t, c)
	res := e.HTTPConnect("c", "/t", OptString{}, nil)
	if res.Ret != 200 || res.HTTPVersion != "HTTP/2" {
		t.Fatalf("ret %d version %q (%s)", res.Ret, res.HTTPVersion, res.Message)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(connects) != 1 || connects[0] != s.addr {
		t.Errorf("CONNECTs %q", connects)
	}
	if r := s.requests(); len(r) != 1 || r[0].proto != 2 {
		t.Errorf("requests %+v", r)
	}
}

func TestHTTP1OnlyTLSServer(t *testing.T) {
	s := newH2TestServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/x-h1")
		fmt.Fprint(w, "ok")
	})
	c := testConn("c", "https", s.addr)
	c.KeepConnections = 1
	e := s.engine(t, c)
	for i := 0; i < 2; i++ {
		res := e.HTTPConnect("c", "/", OptString{}, []byte("a=1"))
		if res.Ret != 200 || res.HTTPVersion != "HTTP/1.1" || !strings.Contains(string(res.Header), "Content-Type: text/x-h1\r\n") {
			t.Fatalf("ret %d version %q header %q (%s)", res.Ret, res.HTTPVersion, res.Header, res.Message)
		}
	}
	reqs := s.requests()
	if len(reqs) != 2 || reqs[0].proto != 1 || reqs[0].body != "a=1" || distinctRemotes(reqs) != 1 {
		t.Errorf("requests %+v", reqs)
	}
	if got := s.offered(); !reflect.DeepEqual(got, []string{"h2", "http/1.1"}) {
		t.Errorf("ALPN offered %q", got)
	}
}

// TestH2NoLeaks: without keep_connections every HTTP/2 connection and its goroutines are
// gone after the call; kept ones go with Engine.Close.
func TestH2NoLeaks(t *testing.T) {
	s := newH2TestServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/reset" {
			panic(http.ErrAbortHandler)
		}
		fmt.Fprint(w, "ok")
	})
	fresh := testConn("fresh", "https", s.addr)
	kept := testConn("kept", "https", s.addr)
	kept.KeepConnections = 1
	// No timeout: a connection left open would not be ended by its deadline either.
	fresh.Timeout, kept.Timeout = 0, 0
	cfg := testConfig(fresh, kept)
	cfg.CACert = Some(s.ca)
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	settle := func(limit int) int {
		n := runtime.NumGoroutine()
		for deadline := time.Now().Add(2 * time.Second); n > limit && time.Now().Before(deadline); n = runtime.NumGoroutine() {
			time.Sleep(20 * time.Millisecond)
		}
		return n
	}
	base := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		path := "/ok"
		if i%4 == 3 {
			path = "/reset"
		}
		if res := e.HTTPConnect("fresh", path, OptString{}, nil); res.Ret != 200 && res.Ret != curlHTTP2StreamError {
			t.Fatalf("call %d: %d (%s)", i, res.Ret, res.Message)
		}
		if res := e.HTTPConnect("kept", path, OptString{}, nil); res.Ret != 200 && res.Ret != curlHTTP2StreamError {
			t.Fatalf("kept call %d: %d (%s)", i, res.Ret, res.Message)
		}
	}
	e.Close()
	if n := settle(base); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after the calls, %d before\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func TestStdH2ErrorTypes(t *testing.T) {
	// Errors that are not net/http's HTTP/2 types are never taken for them.
	for _, err := range []error{io.EOF, errors.New("stream error: stream ID 1; CANCEL"), &net.OpError{Op: "read", Err: io.EOF}} {
		if _, ok := stdH2Error(err, "StreamError"); ok {
			t.Errorf("%v taken for a StreamError", err)
		}
	}
	if c := h2Failure(fmt.Errorf("wrapped: %w", io.ErrUnexpectedEOF), time.Time{}, true, "x"); c.code != curlPartialFile {
		t.Errorf("unexpected EOF: %d", c.code)
	}
	if c := h2Failure(errors.New("anything else"), time.Now().Add(-time.Second), false, "x"); c.code != curlTimeout {
		t.Errorf("past deadline: %d", c.code)
	}
	if c := h2Failure(errors.New("anything else"), time.Time{}, false, "x"); c.code != curlHTTP2Error {
		t.Errorf("other: %d", c.code)
	}
}

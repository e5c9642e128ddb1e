// Security checks (issue 8), each against real listeners on 127.0.0.1 and engines built
// from settings text as hc_init builds them: TLS verification is on unless a setting
// turns it off; only http and https are ever requested, also after redirects; a CR, LF
// or NUL in a URL, content type, header, method or option is refused and nothing reaches
// the wire; passwords never appear in the listing or in a message. The crash log is
// checked through the C API by bindings/python/tests/test_security.py.

package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// secTrap is a listener that records every connection's bytes. A request head is
// answered with 200 "ok" and the connection closed; anything else is read until the
// client closes. It tells "nothing was sent" apart from "refused by the server".
type secTrap struct {
	ln    net.Listener
	mu    sync.Mutex
	conns [][]byte // what each accepted connection carried, once it is closed
	open  int      // accepted connections not closed yet
}

func newSecTrap(t *testing.T) *secTrap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &secTrap{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			i := len(s.conns)
			s.conns = append(s.conns, nil)
			s.open++
			s.mu.Unlock()
			go s.handle(c, i)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *secTrap) addr() string { return s.ln.Addr().String() }

func (s *secTrap) handle(c net.Conn, i int) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	var got bytes.Buffer
	defer func() {
		s.mu.Lock()
		s.conns[i] = got.Bytes()
		s.open--
		s.mu.Unlock()
	}()
	for {
		line, err := br.ReadBytes('\n')
		got.Write(line)
		if err != nil {
			return
		}
		if bytes.HasSuffix(got.Bytes(), []byte("\r\n\r\n")) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			_, _ = io.Copy(io.Discard, br)
			return
		}
	}
}

// traffic waits (bounded) until every connection made so far is closed and returns what
// each one carried. Callers close their engines first.
func (s *secTrap) traffic(t *testing.T) []string {
	t.Helper()
	// Not a WaitGroup: its Add for a connection accepted while traffic waits would race
	// with the Wait (the race detector sees no ordering through the engine's sockets).
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		open := s.open
		s.mu.Unlock()
		if open == 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("trap connections still open after 15 s")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.conns))
	for i, b := range s.conns {
		out[i] = string(b)
	}
	return out
}

// secEngine is bgtEngine with the settings checked for the test's own mistakes.
func secEngine(t *testing.T, settings string) *Engine {
	t.Helper()
	return bgtEngine(t, settings)
}

// secBackground submits one background request and waits for its result.
func secBackground(t *testing.T, e *Engine, url string, opts map[string]any) *BackgroundResult {
	t.Helper()
	id := bgtSubmit(t, e, "p", url, opts)
	r := bgtPoll(t, e, 20*time.Second)
	if r.ID != id {
		t.Fatalf("result for id %d, want %d", r.ID, id)
	}
	return r
}

func TestSecurityTLSVerificationOnByDefault(t *testing.T) {
	bgtWatchdog(t, 60*time.Second)
	// A certificate for 127.0.0.1 that no configured CA vouches for.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") }))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")
	dir := t.TempDir()
	ini := filepath.Join(dir, "hc.ini")
	if err := os.WriteFile(ini, []byte("[f1]\nurl = https://"+addr+"/\n[f0]\nurl = https://"+addr+"/\nverify_peer = no\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := secEngine(t, "pool = {\"id\": \"p\"}\nconfig_file = "+ini+"\n"+
		"httpcon = c1=>https://"+addr+"/\n"+
		"httpcon = c0=>https://"+addr+"/;verify_peer=0\n")
	off := secEngine(t, "verify_peer = 0\nverify_host = 0\nhttpcon = c=>https://"+addr+"/\n")

	for _, tc := range []struct {
		name string
		do   func() (int, string)
		want int
	}{
		{"query, no settings", func() (int, string) { r := e.Query(srv.URL+"/", nil, ""); return r.Ret, string(r.Body) }, curlPeerFailedVerify},
		{"httpcon, no settings", func() (int, string) { r := e.HTTPConnect("c1", "", OptString{}, nil); return r.Ret, string(r.Body) }, curlPeerFailedVerify},
		{"config_file, no settings", func() (int, string) { r := e.HTTPConnect("f1", "", OptString{}, nil); return r.Ret, string(r.Body) }, curlPeerFailedVerify},
		{"background, no options", func() (int, string) { r := secBackground(t, e, srv.URL+"/", nil); return r.CurlCode, string(r.Content) }, curlPeerFailedVerify},
		{"background, tls_verify_host false only", func() (int, string) {
			r := secBackground(t, e, srv.URL+"/", map[string]any{"tls_verify_host": false})
			return r.CurlCode, string(r.Content)
		}, curlPeerFailedVerify},
		// Only an explicit setting turns verification off.
		{"httpcon ;verify_peer=0", func() (int, string) { r := e.HTTPConnect("c0", "", OptString{}, nil); return r.Ret, string(r.Body) }, 200},
		{"config_file verify_peer = no", func() (int, string) { r := e.HTTPConnect("f0", "", OptString{}, nil); return r.Ret, string(r.Body) }, 200},
		{"modparams verify_peer = 0, verify_host = 0", func() (int, string) { r := off.Query(srv.URL+"/", nil, ""); return r.Ret, string(r.Body) }, 200},
		{"background tls_verify_peer false", func() (int, string) {
			r := secBackground(t, e, srv.URL+"/", map[string]any{"tls_verify_peer": false})
			return r.Status, string(r.Content)
		}, 200},
	} {
		ret, body := tc.do()
		if ret != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, ret, tc.want)
		}
		if tc.want != 200 && body != "" {
			t.Errorf("%s: the unverified server's body reached the caller: %q", tc.name, body)
		}
	}
}

func TestSecurityOnlyHTTPAndHTTPS(t *testing.T) {
	bgtWatchdog(t, 60*time.Second)
	trap := newSecTrap(t) // stands for the gopher/ftp/... servers a redirect points at
	other := []string{
		"file:///etc/passwd", "FILE:///etc/passwd", "file://localhost/etc/passwd",
		"gopher://" + trap.addr() + "/_GET%20/%20HTTP/1.0%0D%0A", "ftp://" + trap.addr() + "/", "ftps://" + trap.addr() + "/",
		"dict://" + trap.addr() + "/d:x", "ldap://" + trap.addr() + "/", "telnet://" + trap.addr() + "/",
		"smtp://" + trap.addr() + "/", "tftp://" + trap.addr() + "/x", "scp://" + trap.addr() + "/x",
		"sftp://" + trap.addr() + "/x", "imap://" + trap.addr() + "/", "pop3://" + trap.addr() + "/",
		"rtsp://" + trap.addr() + "/", "mqtt://" + trap.addr() + "/", "ws://" + trap.addr() + "/",
		"javascript://" + trap.addr() + "/%0aalert(1)",
	}
	// The server redirects /r?i to other[i].
	redirector := newRawServer(t, func(r rawRequest) string {
		var i int
		if _, err := fmt.Sscanf(r.line, "GET /r?%d ", &i); err != nil || i < 0 || i >= len(other) {
			return httpResponse(404, "", "")
		}
		return httpResponse(302, "Location: "+other[i]+"\r\n", "moved")
	})
	dir := t.TempDir()
	ini := filepath.Join(dir, "hc.ini")
	if err := os.WriteFile(ini, []byte("[fftp]\nurl = ftp://"+trap.addr()+"/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := secEngine(t, "httpredirect = 1\npool = {\"id\": \"p\"}\nconfig_file = "+ini+"\n"+
		"httpcon = red=>http://"+redirector.addr()+"\n"+
		"httpcon = gopher=>gopher://"+trap.addr()+"/_x\n")

	for i, u := range other {
		if r := e.Query(u, nil, ""); r.Ret != curlUnsupportedProto {
			t.Errorf("query %s: %d (%s), want 1", u, r.Ret, r.Message)
		}
		loc := fmt.Sprintf("/r?%d", i)
		if r := e.Query("http://"+redirector.addr()+loc, nil, ""); r.Ret != curlUnsupportedProto {
			t.Errorf("query redirected to %s: %d (%s), want 1", u, r.Ret, r.Message)
		}
		if r := e.HTTPConnect("red", loc, OptString{}, nil); r.Ret != curlUnsupportedProto {
			t.Errorf("httpcon redirected to %s: %d (%s), want 1", u, r.Ret, r.Message)
		}
		if r := secBackground(t, e, u, nil); r.CurlCode != curlUnsupportedProto {
			t.Errorf("background %s: %d (%s), want 1", u, r.CurlCode, r.Error)
		}
		if r := secBackground(t, e, "http://"+redirector.addr()+loc, map[string]any{"redirects": -1}); r.CurlCode != curlUnsupportedProto {
			t.Errorf("background redirected to %s: %d (%s), want 1", u, r.CurlCode, r.Error)
		}
	}
	// curl's scheme guess ("ftp." means ftp) and connections defined with other schemes.
	if r := e.Query("ftp."+trap.addr()+"/x", nil, ""); r.Ret != curlUnsupportedProto {
		t.Errorf("guessed ftp: %d (%s)", r.Ret, r.Message)
	}
	for _, con := range []string{"gopher", "fftp"} {
		if r := e.HTTPConnect(con, "", OptString{}, nil); r.Ret != curlUnsupportedProto {
			t.Errorf("connection %s: %d (%s)", con, r.Ret, r.Message)
		}
	}
	// The positive control: plain http still follows to http.
	if r := e.Query("http://"+trap.addr()+"/ok", nil, ""); r.Ret != 200 {
		t.Fatalf("control request to the trap: %d (%s)", r.Ret, r.Message)
	}
	bgtShutdown(t, e, 0)
	e.Close()
	if got := trap.traffic(t); len(got) != 1 || !strings.HasPrefix(got[0], "GET /ok HTTP/1.1\r\n") {
		t.Errorf("the trap saw %d connections (only the control may reach it): %q", len(got), got)
	}
	if n := len(redirector.requests()); n != 3*len(other) {
		t.Errorf("the redirector saw %d requests, want %d", n, 3*len(other))
	}
}

func TestSecurityLineBreaksRefused(t *testing.T) {
	bgtWatchdog(t, 60*time.Second)
	trap := newSecTrap(t)
	base := "http://" + trap.addr()
	e := secEngine(t, "pool = {\"id\": \"p\"}\nhttpcon = c=>"+base+"\n")

	// What each refusal must look like: curl's 3 for a URL (curl 7.88 refuses control
	// characters in URLs), -1 for an argument, a Halon-style refusal for an option.
	sync := []struct {
		name string
		do   func() *Result
		want int
	}{
		{"URL CRLF", func() *Result { return e.Query(base+"/a\r\nX-Injected: 1", nil, "") }, curlURLMalformat},
		{"URL LF", func() *Result { return e.Query(base+"/a\nX-Injected: 1", nil, "") }, curlURLMalformat},
		{"URL CR in the host", func() *Result { return e.Query("http://127.0.0.1\r\n:1/", nil, "") }, curlURLMalformat},
		{"URL NUL", func() *Result { return e.Query(base+"/a\x00b", nil, "") }, curlURLMalformat},
		{"appended path CRLF", func() *Result { return e.HTTPConnect("c", "/a HTTP/1.1\r\nX-Injected: 1\r\n\r\n", OptString{}, nil) }, curlURLMalformat},
		{"content type CRLF", func() *Result {
			return e.HTTPConnect("c", "/", Some("text/plain\r\nX-Injected: 1"), []byte("x"))
		}, -1},
		{"content type LF", func() *Result { return e.HTTPConnect("c", "/", Some("text/plain\nX-Injected: 1"), []byte("x")) }, -1},
		{"query_c content type CR", func() *Result { return e.QueryC(base+"/", []byte("x"), Some("a\rX-Injected: 1"), "") }, -1},
		{"hdrs empty line (smuggling)", func() *Result {
			return e.Query(base+"/", nil, "X-A: 1\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x")
		}, -1},
		{"hdrs trailing CRLF", func() *Result { return e.Query(base+"/", nil, "X-A: 1\r\n") }, -1},
		{"hdrs bare LF", func() *Result { return e.Query(base+"/", nil, "X-A: 1\nX-Injected: 1") }, -1},
		{"hdrs bare CR", func() *Result { return e.Query(base+"/", nil, "X-A: 1\rX-Injected: 1") }, -1},
		{"hdrs folded line", func() *Result { return e.Query(base+"/", nil, "X-A: 1\r\n X-Injected: 1") }, -1},
		{"hdrs line that is no field", func() *Result { return e.Query(base+"/", nil, "X-A: 1\r\nGET /smuggled HTTP/1.1") }, -1},
		{"hdrs NUL", func() *Result { return e.ClientGet(base+"/", nil, "X-A: 1\x00\r\nX-B: 2") }, -1},
		{"method CRLF", func() *Result { return e.Request("GET / HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET", base+"/", nil, "") }, -1},
		{"method blank", func() *Result { return e.Request("GET /x", base+"/", nil, "") }, -1},
	}
	for _, tc := range sync {
		r := tc.do()
		if r.Ret != tc.want {
			t.Errorf("%s: ret %d (%s), want %d", tc.name, r.Ret, r.Message, tc.want)
			continue
		}
		if r.Message == "" || strings.ContainsAny(r.Message, "\r\n") {
			t.Errorf("%s: message %q", tc.name, r.Message)
		}
		if tc.want == -1 && !strings.Contains(r.Message, "inject") && !strings.Contains(r.Message, "token") {
			t.Errorf("%s: message %q does not say why", tc.name, r.Message)
		}
	}
	// Kamailio counts a curl error (the URL refusals, 3) as a failure, a -1 not at all.
	wantFail := uint64(0)
	for _, tc := range sync {
		if tc.want > 0 {
			wantFail++
		}
	}
	if _, ok, fail := e.Counters(); ok != 0 || fail != wantFail {
		t.Errorf("counters: %d ok, %d failed; want 0, %d", ok, fail, wantFail)
	}

	// Background options: refused at submit with "Bad <name> value: ...".
	for _, tc := range []struct {
		opts map[string]any
		name string
	}{
		{map[string]any{"headers": []any{"X-A: 1\r\n\r\nGET /smuggled HTTP/1.1"}}, "headers"},
		{map[string]any{"headers": []any{"X-A: 1", "X-B: 2\nX-Injected: 1"}}, "headers"},
		{map[string]any{"method": "GET / HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET"}, "method"},
		{map[string]any{"method": "DELETE\r"}, "method"},
		{map[string]any{"proxy": "http://" + trap.addr() + "\r\nX-Injected: 1"}, "proxy"},
		{map[string]any{"sourceip": "127.0.0.1\n"}, "sourceip"},
		{map[string]any{"username": "u\r\nX-Injected: 1", "password": "p", "aws_sigv4": "aws:amz:r:s"}, "username"},
		{map[string]any{"username": "u", "password": "p", "aws_sigv4": "aws:amz:r\r\nX-Injected: 1:s"}, "aws_sigv4"},
		{map[string]any{"form": map[string]any{"f": map[string]any{"data": "v", "type": "text/plain\r\nX-Injected: 1"}}}, "form"},
	} {
		_, err := e.SubmitRequest("p", Some(base+"/"), bgtOpts(tc.opts), nil, false)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != tc.name || !strings.HasPrefix(oe.Text, "Bad "+tc.name+" value: ") {
			t.Errorf("options %v: %v, want a refusal of %s", tc.opts, err, tc.name)
		}
	}
	// A URL with a line break is accepted by the plugin's checks and fails as curl does.
	if r := secBackground(t, e, base+"/a\r\nX-Injected: 1", nil); r.CurlCode != curlURLMalformat {
		t.Errorf("background URL CRLF: %d (%s)", r.CurlCode, r.Error)
	}

	// Positive controls: Kamailio's multi-line hdrs and Halon's headers still go out.
	if r := e.Query(base+"/ok", nil, "X-A: 1\r\nX-B: 2"); r.Ret != 200 {
		t.Fatalf("control: %d (%s)", r.Ret, r.Message)
	}
	bgtShutdown(t, e, 0)
	e.Close()
	got := trap.traffic(t)
	if len(got) != 1 || !strings.HasPrefix(got[0], "GET /ok HTTP/1.1\r\n") || !strings.Contains(got[0], "\r\nX-A: 1\r\nX-B: 2\r\n\r\n") {
		t.Errorf("the server saw %d connections (only the control may reach it): %q", len(got), got)
	}
}

func TestSecurityLineBreaksInSettingsRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ name, settings, want string }{
		{"useragent modparam CR", "useragent = hc\rX-Injected: 1\n", "useragent"},
		{"httpcon ;useragent", "httpcon = c=>http://h/;useragent='a\rX-Injected: 1'\n", `connection "c": useragent`},
		{"config_file useragent", "config_file = " + write("ua.ini", "[f]\nurl = http://h/\nuseragent = \"a\\r\\nX-Injected: 1\"\n"), `connection "f": useragent`},
		{"config_file username (sent by Digest)", "config_file = " + write("user.ini", "[f]\nurl = http://h/\nusername = \"u\\r\\nX-Injected: 1\"\npassword = p\nauthmethod = 2\n"), `connection "f": username`},
	} {
		_, err := ParseSettings(tc.settings)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errHeaderInjection) {
			t.Errorf("%s: %v, want a refusal naming %s", tc.name, err, tc.want)
		}
	}
}

// TestSecurityWireGuard: values that bypassed every front door (connections built by
// hand: a user agent holding CRLF; a user name holding CRLF that only a Digest answer
// puts in a header) are stopped at the wire with curl's 43, nothing of them written.
func TestSecurityWireGuard(t *testing.T) {
	trap := newSecTrap(t)
	ua := testConn("ua", "http", trap.addr())
	ua.UserAgent = Some("hc\r\nX-Injected: 1")
	digest := newRawServer(t, func(r rawRequest) string {
		return httpResponse(401, "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\"\r\n", "")
	})
	dg := testConn("dg", "http", digest.addr())
	dg.Username, dg.Password, dg.AuthMethod = Some("u\r\nX-Injected: 1"), Some("p"), AuthDigest
	e := newTestEngine(t, testConfig(ua, dg))
	for _, con := range []string{"ua", "dg"} {
		if r := e.HTTPConnect(con, "/", OptString{}, nil); r.Ret != curlBadFunctionArg || !strings.Contains(r.Message, "inject") {
			t.Errorf("%s: %d (%s), want 43", con, r.Ret, r.Message)
		}
	}
	e.Close()
	for i, b := range trap.traffic(t) {
		if b != "" {
			t.Errorf("connection %d carried %q", i, b)
		}
	}
	// The Digest probe went out without credentials; the answer to the challenge did not.
	if reqs := digest.requests(); len(reqs) != 1 || len(reqs[0].header("Authorization")) != 0 || strings.Contains(reqs[0].rawHdr, "X-Injected") {
		t.Errorf("the Digest server saw %+v", reqs)
	}
}

func TestSecurityPasswordsNeverShown(t *testing.T) {
	bgtWatchdog(t, 60*time.Second)
	closed := func() string { // a port nobody listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := ln.Addr().String()
		ln.Close()
		return a
	}()
	redirector := newRawServer(t, func(r rawRequest) string {
		switch {
		case strings.Contains(r.line, "/bad"):
			return httpResponse(302, "Location: http://ru:LocPass1111@127.0.0.1/a b\x01\r\n", "")
		case strings.Contains(r.line, "/gopher"):
			return httpResponse(302, "Location: gopher://ru:LocPass2222@127.0.0.1/\r\n", "")
		}
		return httpResponse(302, "Location: http://ru:LocPass3333@"+closed+"/\r\n", "")
	})
	dir := t.TempDir()
	ini := filepath.Join(dir, "hc.ini")
	if err := os.WriteFile(ini, []byte("[f1]\nurl = http://iu:IniUrlPass4444@"+closed+"/\nusername = fu\npassword = IniPass5555\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	settings := "pool = {\"id\": \"p\"}\nhttpredirect = 1\nconfig_file = " + ini + "\n" +
		"httpproxy = http://pu:ProxyPass6666@" + closed + "\nhttpproxyport = 3128\n" +
		"httpcon = c1=>http://cu:ConPass7777@" + closed + "/api\n" +
		"httpcon = c2=>http://a@b:SecondPass8888@" + closed + "/\n" +
		"httpproxy =\nhttpproxyport = 0\n" + // the connections above keep the proxy; queries go direct
		"httpcon = red=>http://" + redirector.addr() + "\n"
	secrets := []string{"LocPass1111", "LocPass2222", "LocPass3333", "IniUrlPass4444", "IniPass5555", "ProxyPass6666",
		"ConPass7777", "SecondPass8888", "QueryPass9999", "BgPass1010", "BadPass1212"}
	check := func(where, text string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows a password: %q", where, text)
			}
		}
	}

	e := secEngine(t, settings)
	cfg, err := ParseSettings(settings)
	if err != nil {
		t.Fatal(err)
	}
	listing, err := cfg.ListconJSON()
	if err != nil {
		t.Fatal(err)
	}
	check("listcon", string(listing))
	if !strings.Contains(string(listing), `"password":"***"`) || !strings.Contains(string(listing), "***@") {
		t.Errorf("listcon does not show the masks: %s", listing)
	}

	// Messages of failed requests (connection refused, malformed URLs, redirects).
	for _, tc := range []struct {
		name string
		r    *Result
	}{
		{"httpcon refused", e.HTTPConnect("c1", "/x", OptString{}, nil)},
		{"httpcon second userinfo", e.HTTPConnect("c2", "/x", OptString{}, nil)},
		{"config_file refused", e.HTTPConnect("f1", "/x", OptString{}, nil)},
		{"query refused", e.Query("http://qu:QueryPass9999@"+closed+"/", nil, "")},
		{"query malformed", e.Query("http://qu:QueryPass9999@127.0.0.1/a b", nil, "")},
		{"query bad slashes", e.Query("http:////qu:QueryPass9999@127.0.0.1/", nil, "")},
		{"query other scheme", e.Query("gopher://qu:QueryPass9999@127.0.0.1/", nil, "")},
		{"redirect malformed", e.HTTPConnect("red", "/bad", OptString{}, nil)},
		{"redirect other scheme", e.HTTPConnect("red", "/gopher", OptString{}, nil)},
		{"redirect refused", e.HTTPConnect("red", "/closed", OptString{}, nil)},
	} {
		if tc.r.Ret >= 100 || tc.r.Message == "" {
			t.Errorf("%s: ret %d message %q: the failure did not happen", tc.name, tc.r.Ret, tc.r.Message)
		}
		check(tc.name, tc.r.Message)
	}
	for _, u := range []string{"gopher://bu:BgPass1010@127.0.0.1/", "http://bu:BgPass1010@127.0.0.1/a b", "http://bu:BgPass1010@" + closed + "/",
		"http://" + redirector.addr() + "/bad"} {
		r := secBackground(t, e, u, map[string]any{"redirects": 2})
		if r.CurlCode == 0 {
			t.Errorf("background %s: no failure", u)
		}
		check("background "+u, r.Error+" | "+r.Detail)
	}

	// hc_init errors that quote the settings.
	for _, bad := range []string{
		"httpcon = c1=>http://cu:BadPass1212@h/api;timeout=1;x y",
		"httpcon = c1 = > http://cu:BadPass1212@h/",
		"httpcon = c1=>http:/cu:BadPass1212@h/",
		"http://cu:BadPass1212@h/",
		"config_file = " + func() string {
			p := filepath.Join(dir, "blank.ini")
			_ = os.WriteFile(p, []byte("[f]\nurl = http://h/\npassword = BadPass1212 trailing\n"), 0o600)
			return p
		}(),
	} {
		_, err := ParseSettings(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		check("hc_init error", err.Error())
	}
}

package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// writePEM writes a certificate (and optionally its key) to dir.
func writePEM(t *testing.T, dir, name string, der []byte, key any) (certFile, keyFile string) {
	t.Helper()
	certFile = filepath.Join(dir, name+".crt")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if key != nil {
		kb, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		keyFile = filepath.Join(dir, name+".key")
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

func tlsServer(t *testing.T, mutate func(*tls.Config)) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := ""
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		fmt.Fprintf(w, "ok %s %s", r.Proto, cn)
	}))
	srv.TLS = &tls.Config{NextProtos: []string{"http/1.1"}}
	if mutate != nil {
		mutate(srv.TLS)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca, _ := writePEM(t, t.TempDir(), "ca", srv.Certificate().Raw, nil)
	return srv, ca
}

func TestTLS(t *testing.T) {
	srv, ca := tlsServer(t, nil)
	tls12, ca12 := tlsServer(t, func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })
	addr := strings.TrimPrefix(srv.URL, "https://")
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	addr12 := strings.TrimPrefix(tls12.URL, "https://")

	// client certificate required (TLS 1.2, so a missing certificate fails in the handshake)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "hc-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	clientCert, clientKey := writePEM(t, t.TempDir(), "client", der, key)
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	mtls, caM := tlsServer(t, func(c *tls.Config) {
		c.MaxVersion = tls.VersionTLS12
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = pool
	})
	addrM := strings.TrimPrefix(mtls.URL, "https://")

	tests := []struct {
		name   string
		cacert OptString
		base   string
		mod    func(c *Connection)
		want   int
		body   string
	}{
		{"verified", Some(ca), addr, nil, 200, "ok HTTP/1.1 "},
		{"missing CA file", Some("/nonexistent/ca.pem"), addr, nil, 77, ""},
		{"missing CA file, verify_peer 0", Some("/nonexistent/ca.pem"), addr, func(c *Connection) { c.VerifyPeer = 0 }, 200, "ok HTTP/1.1 "},
		{"system roots", OptString{}, addr, nil, 60, ""},
		{"verify_peer 0", OptString{}, addr, func(c *Connection) { c.VerifyPeer = 0 }, 200, "ok HTTP/1.1 "},
		{"host mismatch", Some(ca), "localhost:" + port, nil, 60, ""},
		{"host mismatch verify_host 0", Some(ca), "localhost:" + port, func(c *Connection) { c.VerifyHost = 0 }, 200, "ok HTTP/1.1 "},
		{"host mismatch verify_host 1 acts as 2", Some(ca), "localhost:" + port, func(c *Connection) { c.VerifyHost = 1 }, 60, ""},
		{"verify_peer 0 still checks host", OptString{}, "localhost:" + port, func(c *Connection) { c.VerifyPeer = 0 }, 60, ""},
		{"tlsversion 7 vs 1.2 server", Some(ca12), addr12, func(c *Connection) { c.TLSVersion = 7 }, 35, ""},
		{"tlsversion 6", Some(ca12), addr12, func(c *Connection) { c.TLSVersion = 6 }, 200, "ok HTTP/1.1 "},
		{"tlsversion 3", Some(ca12), addr12, func(c *Connection) { c.TLSVersion = 3 }, 43, ""},
		{"bad cipher list", Some(ca), addr, func(c *Connection) { c.CipherSuites = Some("NOPE") }, 59, ""},
		{"empty cipher list", Some(ca), addr, func(c *Connection) { c.CipherSuites = Some("") }, 59, ""},
		{"cipher list tls1.2", Some(ca12), addr12, func(c *Connection) {
			c.CipherSuites = Some("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256")
		}, 200, "ok HTTP/1.1 "},
		{"client cert missing", Some(caM), addrM, nil, 35, ""},
		{"client cert without key ignored", Some(caM), addrM, func(c *Connection) { c.ClientCert = Some(clientCert) }, 35, ""},
		{"client cert", Some(caM), addrM, func(c *Connection) { c.ClientCert, c.ClientKey = Some(clientCert), Some(clientKey) }, 200, "ok HTTP/1.1 hc-client"},
		{"client cert unreadable", Some(caM), addrM, func(c *Connection) { c.ClientCert, c.ClientKey = Some("/nonexistent"), Some(clientKey) }, 58, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testConn("c1", "https", tc.base)
			if tc.mod != nil {
				tc.mod(c)
			}
			cfg := testConfig(c)
			cfg.CACert = tc.cacert
			e := newTestEngine(t, cfg)
			res := e.HTTPConnect("c1", "", OptString{}, nil)
			if res.Ret != tc.want || string(res.Body) != tc.body {
				t.Errorf("ret %d body %q (%s), want %d %q", res.Ret, res.Body, res.Message, tc.want, tc.body)
			}
		})
	}
}

func TestParseOpenSSLCiphers(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"ECDHE-RSA-AES128-GCM-SHA256", 1},
		{"ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA", 2},
		{"ECDHE-RSA-AES128-GCM-SHA256,AES256-SHA ECDHE-RSA-CHACHA20-POLY1305", 3},
		{"NOPE", 0},
		{"TLS_AES_128_GCM_SHA256", 0},
		{"", 0},
		{"HIGH:!aNULL:!MD5", 17},
		{"ECDHE+AESGCM", 4},
		{"ECDHE+AESGCM:!ECDSA", 2},
		{"DEFAULT:-AES256", 11},
	}
	for _, tc := range tests {
		if got := parseOpenSSLCiphers(tc.in); len(got) != tc.want {
			t.Errorf("parseOpenSSLCiphers(%q) = %d suites, want %d", tc.in, len(got), tc.want)
		}
	}
}

// digestServer checks Digest credentials the way RFC 7616 servers do.
type digestServer struct {
	mu        sync.Mutex
	challenge func(stale bool) string
	algo      string // "", "MD5", "MD5-sess"
	qop       bool
	staleOnce bool
	nonce     string
	seen      []string // Authorization headers received
}

// requests returns the Authorization headers received. The lock is the only ordering the
// race detector sees: the handler's response reaching the client over TCP is none.
func (d *digestServer) requests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.seen)
}

func md5hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

func (d *digestServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := r.Header.Get("Authorization")
	d.seen = append(d.seen, a)
	if strings.HasPrefix(a, "Digest ") {
		p := map[string]string{}
		for _, kv := range splitParams(a[7:]) {
			p[kv[0]] = kv[1]
		}
		ha1 := md5hex("au:oracle:ap")
		if d.algo == "MD5-sess" {
			ha1 = md5hex(ha1 + ":" + p["nonce"] + ":" + p["cnonce"])
		}
		ha2 := md5hex(r.Method + ":" + p["uri"])
		var want string
		if d.qop {
			want = md5hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
		} else {
			want = md5hex(ha1 + ":" + p["nonce"] + ":" + ha2)
		}
		if d.staleOnce && p["nonce"] == d.nonce {
			d.staleOnce = false
			d.nonce = "fresh-nonce"
			w.Header().Set("WWW-Authenticate", d.challenge(true))
			w.WriteHeader(401)
			return
		}
		if p["response"] == want && p["nonce"] == d.nonce && p["uri"] == r.URL.RequestURI() {
			fmt.Fprint(w, "secret")
			return
		}
	}
	w.Header().Set("WWW-Authenticate", d.challenge(false))
	w.WriteHeader(401)
	fmt.Fprint(w, "auth required")
}

func TestDigest(t *testing.T) {
	tests := []struct {
		name      string
		algo      string
		qop       bool
		opaque    bool
		staleOnce bool
		wantReqs  int
		check     func(t *testing.T, auth string)
	}{
		{name: "qop=auth opaque algorithm=MD5", algo: "MD5", qop: true, opaque: true, wantReqs: 2, check: func(t *testing.T, a string) {
			if !strings.Contains(a, `nc=00000001, qop=auth, response="`) || !strings.HasSuffix(a, `opaque="0paque", algorithm=MD5`) {
				t.Errorf("header %q", a)
			}
			i := strings.Index(a, `cnonce="`) + 8
			cn := a[i : i+44]
			if raw, err := base64.StdEncoding.DecodeString(cn); err != nil || len(raw) != 32 {
				t.Errorf("cnonce %q is not base64 of 32 hex digits", cn)
			}
		}},
		{name: "no qop, no opaque, no algorithm", wantReqs: 2, check: func(t *testing.T, a string) {
			if strings.Contains(a, "qop") || strings.Contains(a, "opaque") || strings.Contains(a, "algorithm") || strings.Contains(a, "cnonce") {
				t.Errorf("header %q", a)
			}
		}},
		{name: "MD5-sess", algo: "MD5-sess", qop: true, wantReqs: 2},
		{name: "stale nonce retried once", qop: true, staleOnce: true, wantReqs: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &digestServer{algo: tc.algo, qop: tc.qop, staleOnce: tc.staleOnce, nonce: "n0nce"}
			d.challenge = func(stale bool) string {
				s := `Digest realm="oracle", nonce="` + d.nonce + `"`
				if tc.qop {
					s += `, qop="auth"`
				}
				if tc.opaque {
					s += `, opaque="0paque"`
				}
				if tc.algo != "" {
					s += ", algorithm=" + tc.algo
				}
				if stale {
					s += ", stale=true"
				}
				return s
			}
			srv := httptest.NewServer(d)
			defer srv.Close()
			c := testConn("c1", "http", strings.TrimPrefix(srv.URL, "http://")+"/api")
			c.Username, c.Password = Some("au"), Some("ap")
			e := newTestEngine(t, testConfig(c))
			res := e.HTTPConnect("c1", "/auth?x=1", Some("text/plain"), []byte("body"))
			if res.Ret != 200 || string(res.Body) != "secret" {
				t.Fatalf("ret %d body %q", res.Ret, res.Body)
			}
			seen := d.requests()
			if len(seen) != tc.wantReqs || seen[0] != "" {
				t.Fatalf("requests: %q", seen)
			}
			if !strings.Contains(seen[1], `uri="/api/auth?x=1"`) {
				t.Errorf("uri: %q", seen[1])
			}
			if tc.check != nil {
				tc.check(t, seen[len(seen)-1])
			}
		})
	}
}

func TestAuthMethods(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	var bodies []string
	scheme := "basic"
	srv := newRawServer(t, func(r rawRequest) string {
		mu.Lock()
		defer mu.Unlock()
		a := r.header("Authorization")
		v := ""
		if len(a) > 0 {
			v = a[0]
		}
		seen = append(seen, v)
		bodies = append(bodies, string(r.body))
		if v == basicAuth("au", "ap") && scheme == "basic" {
			return httpResponse(200, "", "secret")
		}
		ch := `WWW-Authenticate: Basic realm="r"` + "\r\n"
		if scheme == "digest" {
			ch = `WWW-Authenticate: Digest realm="r", nonce="n", qop="auth"` + "\r\n"
		}
		if scheme == "both" {
			ch = `WWW-Authenticate: Digest realm="r", nonce="n", qop="auth"` + "\r\n" + `WWW-Authenticate: Basic realm="r"` + "\r\n"
		}
		return httpResponse(401, ch, "auth required")
	})
	mk := func(name string, method int, user, pass OptString) *Connection {
		c := testConn(name, "http", srv.addr())
		c.AuthMethod, c.Username, c.Password = method, user, pass
		return c
	}
	e := newTestEngine(t, testConfig(
		mk("default", 3, Some("au"), Some("ap")),
		mk("basic", 1, Some("au"), Some("ap")),
		mk("nopass", 1, Some("au"), OptString{}),
		mk("wrong", 3, Some("au"), Some("bad")),
		mk("digestonly", 2, Some("au"), Some("ap")),
		mk("zero", 0, Some("au"), Some("ap")),
		mk("raw", 1, Some("p%40ss"), Some("x")),
	))
	run := func(con, sch string, data []byte) (*Result, []string, []string) {
		mu.Lock()
		seen, bodies, scheme = nil, nil, sch
		mu.Unlock()
		res := e.HTTPConnect(con, "/a", Some("text/plain"), data)
		mu.Lock()
		defer mu.Unlock()
		return res, append([]string(nil), seen...), append([]string(nil), bodies...)
	}
	res, s, b := run("default", "basic", []byte("body-data"))
	if res.Ret != 200 || len(s) != 2 || s[0] != "" || s[1] != basicAuth("au", "ap") || b[0] != "body-data" || b[1] != "body-data" {
		t.Errorf("default authmethod, POST: %d %q %q", res.Ret, s, b)
	}
	res, s, _ = run("basic", "basic", nil)
	if res.Ret != 200 || len(s) != 1 || s[0] != basicAuth("au", "ap") {
		t.Errorf("authmethod 1: %d %q", res.Ret, s)
	}
	res, s, _ = run("basic", "digest", nil)
	if res.Ret != 401 || len(s) != 1 || string(res.Body) != "auth required" {
		t.Errorf("authmethod 1 vs digest server: %d %q", res.Ret, s)
	}
	_, s, _ = run("nopass", "basic", nil)
	if len(s) != 1 || s[0] != "Basic YXU6" {
		t.Errorf("user without password: %q", s)
	}
	res, s, _ = run("wrong", "basic", nil)
	if res.Ret != 401 || len(s) != 2 {
		t.Errorf("wrong password: %d %q", res.Ret, s)
	}
	_, s, _ = run("default", "both", nil)
	if len(s) != 3 && (len(s) < 2 || !strings.HasPrefix(s[1], "Digest ")) {
		t.Errorf("both offered: Digest must win: %q", s)
	}
	_, s, b = run("digestonly", "digest", []byte("payload"))
	if len(s) < 2 || b[0] != "" || b[1] != "payload" {
		t.Errorf("Digest-only POST probes with an empty body: %q %q", s, b)
	}
	if res, _, _ := run("zero", "basic", nil); res.Ret != 4 {
		t.Errorf("authmethod 0: %d", res.Ret)
	}
	_, s, _ = run("raw", "basic", nil)
	if len(s) != 1 || s[0] != basicAuth("p%40ss", "x") {
		t.Errorf("httpcon credentials must not be decoded: %q", s)
	}
}

package engine

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bgTestPKIs is a CA, a client certificate it issued with its key, and an unrelated key.
type bgTestPKIs struct {
	caPEM, certPEM, keyPEM, otherKeyPEM, ecSEC1KeyPEM string
}

var (
	bgPKIOnce  sync.Once
	bgPKIValue bgTestPKIs
)

func bgTestPKI(t *testing.T) bgTestPKIs {
	t.Helper()
	bgPKIOnce.Do(func() {
		mustKey := func() *ecdsa.PrivateKey {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				panic(err)
			}
			return k
		}
		keyPEM := func(k *ecdsa.PrivateKey) string {
			der, err := x509.MarshalPKCS8PrivateKey(k)
			if err != nil {
				panic(err)
			}
			return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		}
		caKey, leafKey, otherKey := mustKey(), mustKey(), mustKey()
		ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hc test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
			BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		caCert, _ := x509.ParseCertificate(caDER)
		leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "oracle-client"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		bgPKIValue = bgTestPKIs{
			caPEM:       string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
			certPEM:     string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})),
			keyPEM:      keyPEM(leafKey),
			otherKeyPEM: keyPEM(otherKey),
		}
		ecDER, _ := x509.MarshalECPrivateKey(otherKey)
		bgPKIValue.ecSEC1KeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}))
	})
	return bgPKIValue
}

// bgJSONOpts marshals an options value for ParseBackgroundRequest.
func bgJSONOpts(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bgWantException checks that err is an *OptionError with Halon's text.
func bgWantException(t *testing.T, err error, text string) {
	t.Helper()
	var oe *OptionError
	if !errors.As(err, &oe) {
		t.Fatalf("got %v (%T), want exception %q", err, err, text)
	}
	if oe.Error() != text {
		t.Fatalf("exception %q, want %q", oe.Error(), text)
	}
}

// bgTestFiles writes the oracle's File-post inputs (README "Listeners and placeholders").
func bgTestFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	bin := func(n int, f func(i int) byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = f(i)
		}
		return b
	}
	files := map[string][]byte{
		"small.txt":     []byte("hello from a file\n"),
		"part.txt":      []byte("part file content\nline 2\n"),
		"bin20.bin":     bin(20, func(i int) byte { return byte(i) }),
		"bin200.bin":    bin(200, func(i int) byte { return byte(i) }),
		"tail32778.bin": bin(32778, func(i int) byte { return byte((i*7 + 3) % 256) }),
		"empty.bin":     nil,
	}
	paths := map[string]string{}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	paths["dir"] = dir
	paths["missing"] = filepath.Join(dir, "does-not-exist")
	return paths
}

// TestBackgroundOracleExceptions is every exc_* scenario of the Halon oracle (and
// config_no_threads) translated to hc's API.
func TestBackgroundOracleExceptions(t *testing.T) {
	p := bgTestPKI(t)
	cases := []struct {
		scenario string
		options  string
		want     string // "" = accepted by ParseBackgroundRequest
	}{
		{"exc_tls_verify_peer_number", `{"tls_verify_peer": 0}`, "Bad tls_verify_peer value"},
		{"exc_redirects_string", `{"redirects": "2"}`, "Bad redirects value"},
		{"exc_first_bad_option_wins", `{"timeout": "x", "tls_verify_host": "no"}`, "Bad tls_verify_host value"},
		{"exc_options_string", `"timeout=5"`, "Bad options parameter"},
		{"exc_x509_missing", string(bgJSONOpts(t, map[string]any{"tls_client_cert": map[string]any{"privatekey": p.keyPEM}})), "Bad x509 value"},
		{"exc_chain_not_array", string(bgJSONOpts(t, map[string]any{"tls_client_cert": map[string]any{
			"x509": p.certPEM, "privatekey": p.keyPEM, "chain": p.caPEM}})), "Bad chain value"},
		// post 42: hc's non-string posts are "form" and "post_file"
		{"exc_post_number (form)", `{"form": 42}`, "Bad type of POST parameter"},
		{"exc_post_number (post_file)", `{"post_file": 42}`, "Bad type of POST parameter"},
		// the pool is checked before the arguments (Engine.SubmitRequest's
		// "Missing ID in configuration"); the arguments themselves are fine
		{"exc_id_unknown", ``, ""},
		{"config_no_threads", ``, ""},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			spec, err := ParseBackgroundRequest("http://127.0.0.1:28080/", []byte(c.options), nil, false)
			if c.want == "" {
				if err != nil || spec == nil {
					t.Fatalf("got %v, want acceptance", err)
				}
				return
			}
			if spec != nil {
				t.Errorf("spec returned with an exception")
			}
			bgWantException(t, err, c.want)
		})
	}
	// exc_url_missing: a C caller without a URL reports this one.
	if ErrBadURLParameter.Error() != "Bad URL parameter" || ErrBadIDParameter.Error() != "Bad ID parameter" {
		t.Errorf("argument exception texts: %q, %q", ErrBadURLParameter, ErrBadIDParameter)
	}
}

// TestBackgroundOptionTypeErrors: every option with every JSON type it does not accept
// (no coercion; null is HSL none, which fails the type check).
func TestBackgroundOptionTypeErrors(t *testing.T) {
	wrong := map[string]string{
		"bool": `true`, "number": `1`, "fraction": `0.5`, "string": `"x"`, "null": `null`,
		"list": `["x"]`, "object": `{"a": "b"}`,
	}
	accepts := map[string][]string{
		"tls_verify_peer": {"bool"},
		"tls_verify_host": {"bool"},
		"timeout":         {"number", "fraction"},
		"connect_timeout": {"number", "fraction"},
		"max_file_size":   {"number", "fraction"},
		"redirects":       {"number", "fraction"},
		"encoder":         {"string"},
		"proxy":           {"string"},
		"method":          {"string"},
		"sourceip":        {"string"},
		"username":        {"string"},
		"password":        {"string"},
		"aws_sigv4":       {"string"},
	}
	for opt, ok := range accepts {
		for typ, val := range wrong {
			accepted := false
			for _, a := range ok {
				accepted = accepted || a == typ
			}
			t.Run(opt+"/"+typ, func(t *testing.T) {
				_, err := ParseBackgroundRequest("http://h/", []byte(`{"`+opt+`": `+val+`}`), nil, false)
				if accepted {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				bgWantException(t, err, "Bad "+opt+" value")
			})
		}
	}
	// tls_client_cert: a non-array is "Bad tls_client_cert value"; a list is an array
	// without the "x509" key.
	for typ, val := range wrong {
		_, err := ParseBackgroundRequest("http://h/", []byte(`{"tls_client_cert": `+val+`}`), nil, false)
		want := "Bad tls_client_cert value"
		if typ == "list" || typ == "object" {
			want = "Bad x509 value"
		}
		t.Run("tls_client_cert/"+typ, func(t *testing.T) { bgWantException(t, err, want) })
	}
	// headers is never refused: a non-array yields no header.
	for typ, val := range wrong {
		spec, err := ParseBackgroundRequest("http://h/", []byte(`{"headers": `+val+`}`), nil, false)
		if err != nil {
			t.Errorf("headers/%s: %v", typ, err)
			continue
		}
		want := 0
		if typ == "list" || typ == "object" {
			want = 1
		}
		if len(spec.Headers) != want {
			t.Errorf("headers/%s: %q", typ, spec.Headers)
		}
	}
	// options themselves
	for _, o := range []string{`"x"`, `5`, `true`, `{`, `{"a":1}x`, `{"a":1} {}`, `[1,]`, `1e999`} {
		_, err := ParseBackgroundRequest("http://h/", []byte(o), nil, false)
		bgWantException(t, err, "Bad options parameter")
	}
	for _, o := range []string{``, ` `, `null`, `[]`, `{}`, `["timeout", "x"]`, `[{"timeout": "x"}]`} {
		if _, err := ParseBackgroundRequest("http://h/", []byte(o), nil, false); err != nil {
			t.Errorf("options %q: %v", o, err)
		}
	}
}

// TestBackgroundOptionOrder checks the plugin's check order: of two bad options, the
// one checked first is reported, and the post is checked after every option.
func TestBackgroundOptionOrder(t *testing.T) {
	p := bgTestPKI(t)
	type bad struct {
		key  string
		val  any
		text string
	}
	order := []bad{
		{"tls_verify_peer", 1, "Bad tls_verify_peer value"},
		{"tls_verify_host", "no", "Bad tls_verify_host value"},
		{"tls_client_cert", "x", "Bad tls_client_cert value"},
		{"timeout", "x", "Bad timeout value"},
		{"connect_timeout", "x", "Bad connect_timeout value"},
		{"max_file_size", "x", "Bad max_file_size value"},
		{"encoder", 1, "Bad encoder value"},
		{"proxy", 1, "Bad proxy value"},
		{"method", 1, "Bad method value"},
		{"sourceip", 1, "Bad sourceip value"},
		{"username", 1, "Bad username value"},
		{"password", 1, "Bad password value"},
		{"aws_sigv4", 1, "Bad aws_sigv4 value"},
		{"redirects", "x", "Bad redirects value"},
		{"form", 5, "Bad type of POST parameter"},
	}
	for i := range order {
		for j := i + 1; j < len(order); j++ {
			a, b := order[i], order[j]
			opts := bgJSONOpts(t, map[string]any{a.key: a.val, b.key: b.val})
			_, err := ParseBackgroundRequest("http://h/", opts, nil, false)
			t.Run(a.key+"_before_"+b.key, func(t *testing.T) { bgWantException(t, err, a.text) })
		}
	}
	// inside tls_client_cert: x509, then privatekey, then chain
	cc := func(m map[string]any) []byte {
		return bgJSONOpts(t, map[string]any{"tls_client_cert": m, "timeout": "x"})
	}
	for _, c := range []struct {
		cert map[string]any
		want string
	}{
		{map[string]any{"x509": 1, "privatekey": 1, "chain": 1}, "Bad x509 value"},
		{map[string]any{"x509": p.certPEM, "privatekey": "junk", "chain": 1}, "Bad privatekey value"},
		{map[string]any{"x509": p.certPEM, "privatekey": p.keyPEM, "chain": 1}, "Bad chain value"},
		{map[string]any{"x509": p.certPEM, "privatekey": p.keyPEM, "chain": nil}, "Bad chain value"},
		{map[string]any{"x509": p.certPEM, "privatekey": p.keyPEM, "chain": []any{p.caPEM, 1}}, "Bad x509 value in chain"},
		{map[string]any{"x509": p.certPEM, "privatekey": p.keyPEM, "chain": []any{"junk"}}, "Bad x509 value in chain"},
		{map[string]any{"x509": p.certPEM, "privatekey": p.keyPEM, "chain": []any{p.caPEM}}, "Bad timeout value"},
	} {
		_, err := ParseBackgroundRequest("http://h/", cc(c.cert), nil, false)
		bgWantException(t, err, c.want)
	}
	// the string body is checked after the options too (it cannot be wrong itself, but
	// two bodies are)
	_, err := ParseBackgroundRequest("http://h/", []byte(`{"method": 1, "form": {}}`), []byte("a"), true)
	bgWantException(t, err, "Bad method value")
}

func TestBackgroundClientCert(t *testing.T) {
	p := bgTestPKI(t)
	parse := func(cert map[string]any) (*BackgroundSpec, error) {
		return ParseBackgroundRequest("https://h/", bgJSONOpts(t, map[string]any{"tls_client_cert": cert}), nil, false)
	}
	spec, err := parse(map[string]any{"x509": p.certPEM, "privatekey": p.keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	cc := spec.ClientCert
	if cc == nil || cc.SetupError != 0 || len(cc.Certificate.Certificate) != 1 || cc.Certificate.PrivateKey == nil ||
		cc.Certificate.Leaf == nil || cc.Certificate.Leaf.Subject.CommonName != "oracle-client" || len(cc.Identity) != 64 {
		t.Fatalf("client cert: %+v", cc)
	}
	again, _ := parse(map[string]any{"x509": "junk before\n" + p.certPEM, "privatekey": p.keyPEM, "ignored": 1})
	if again.ClientCert.Identity != cc.Identity {
		t.Errorf("identity not stable")
	}
	// with a chain (a list, or an object whose values are taken in order)
	for _, chain := range []any{[]any{p.caPEM}, map[string]any{"a": p.caPEM}} {
		ch, err := parse(map[string]any{"x509": p.certPEM, "privatekey": p.keyPEM, "chain": chain})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(ch.ClientCert.Certificate.Certificate); n != 2 || ch.ClientCert.Identity == cc.Identity {
			t.Errorf("chain: %d certificates, identity %s", n, ch.ClientCert.Identity)
		}
	}
	// an empty chain is fine
	if _, err := parse(map[string]any{"x509": p.certPEM, "privatekey": p.keyPEM, "chain": []any{}}); err != nil {
		t.Error(err)
	}
	// a key that does not match: no exception, curl 42 when TLS is set up
	mm, err := parse(map[string]any{"x509": p.certPEM, "privatekey": p.otherKeyPEM})
	if err != nil {
		t.Fatalf("mismatched key refused synchronously: %v", err)
	}
	if mm.ClientCert.SetupError != 42 || CurlStrerror(mm.ClientCert.SetupError) != "Operation was aborted by an application callback" {
		t.Errorf("mismatch: setup error %d", mm.ClientCert.SetupError)
	}
	if mm.ClientCert.Identity == cc.Identity {
		t.Errorf("different keys share an identity")
	}
	// SEC 1 ("EC PRIVATE KEY") keys parse too
	if ec, err := parse(map[string]any{"x509": p.certPEM, "privatekey": p.ecSEC1KeyPEM}); err != nil || ec.ClientCert.SetupError != 42 {
		t.Errorf("EC PRIVATE KEY: %v", err)
	}
	// unparsable resources
	for _, c := range []struct {
		cert map[string]any
		want string
	}{
		{map[string]any{"x509": p.keyPEM, "privatekey": p.keyPEM}, "Bad x509 value"},
		{map[string]any{"x509": "", "privatekey": p.keyPEM}, "Bad x509 value"},
		{map[string]any{"x509": p.certPEM, "privatekey": p.certPEM}, "Bad privatekey value"},
		{map[string]any{"x509": p.certPEM}, "Bad privatekey value"},
		{map[string]any{"x509": p.certPEM, "privatekey": nil}, "Bad privatekey value"},
		{map[string]any{"x509": p.certPEM, "privatekey": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"}, "Bad privatekey value"},
	} {
		_, err := parse(c.cert)
		bgWantException(t, err, c.want)
	}
	// tls_client_cert on http:// is accepted (and unused there)
	if _, err := ParseBackgroundRequest("http://h/", bgJSONOpts(t, map[string]any{"tls_client_cert": map[string]any{"x509": p.certPEM, "privatekey": p.keyPEM}}), nil, false); err != nil {
		t.Error(err)
	}
}

func TestBackgroundOptionValues(t *testing.T) {
	sec := time.Second
	cases := []struct {
		opts  string
		check func(s *BackgroundSpec) bool
	}{
		{`{}`, func(s *BackgroundSpec) bool {
			return s.Timeout == 0 && s.ConnectTimeout == 300*sec && s.MaxFileSize == 0 && s.Redirects == 0 &&
				s.VerifyPeer && s.VerifyHost && !s.Proxy.Set && !s.SourceIP.Set && !s.Username.Set &&
				!s.Password.Set && !s.AWSSigV4.Set && s.ClientCert == nil && s.Method == "GET" && !s.CustomMethod &&
				s.Body.Kind == BodyNone && s.Headers == nil && s.URLError == 0
		}},
		{`{"timeout": 2}`, func(s *BackgroundSpec) bool { return s.Timeout == 2*sec }},
		{`{"timeout": 0.5}`, func(s *BackgroundSpec) bool { return s.Timeout == 500*time.Millisecond }},
		{`{"timeout": 0}`, func(s *BackgroundSpec) bool { return s.Timeout == 0 }},
		{`{"timeout": -1}`, func(s *BackgroundSpec) bool { return s.Timeout == 0 }},
		{`{"timeout": -0.5}`, func(s *BackgroundSpec) bool { return s.Timeout == 0 }},
		{`{"timeout": 2147483.9}`, func(s *BackgroundSpec) bool { return s.Timeout > 2147483*sec }},
		{`{"timeout": 2147484}`, func(s *BackgroundSpec) bool { return s.Timeout == 0 }},
		{`{"connect_timeout": 1}`, func(s *BackgroundSpec) bool { return s.ConnectTimeout == sec && s.Timeout == 0 }},
		{`{"connect_timeout": 0.5, "timeout": 2}`, func(s *BackgroundSpec) bool {
			return s.ConnectTimeout == 500*time.Millisecond && s.Timeout == 2*sec
		}},
		{`{"connect_timeout": 0}`, func(s *BackgroundSpec) bool { return s.ConnectTimeout == 300*sec }},
		{`{"connect_timeout": -3}`, func(s *BackgroundSpec) bool { return s.ConnectTimeout == 300*sec }},
		{`{"max_file_size": 50}`, func(s *BackgroundSpec) bool { return s.MaxFileSize == 50 }},
		{`{"max_file_size": 100.7}`, func(s *BackgroundSpec) bool { return s.MaxFileSize == 100 }},
		{`{"max_file_size": 0.5}`, func(s *BackgroundSpec) bool { return s.MaxFileSize == 0 }},
		{`{"max_file_size": -5}`, func(s *BackgroundSpec) bool { return s.MaxFileSize == 0 }},
		{`{"max_file_size": 1e30}`, func(s *BackgroundSpec) bool { return s.MaxFileSize > 1<<62 }},
		{`{"redirects": 0}`, func(s *BackgroundSpec) bool { return s.Redirects == 0 }},
		{`{"redirects": 2}`, func(s *BackgroundSpec) bool { return s.Redirects == 2 }},
		{`{"redirects": 2.9}`, func(s *BackgroundSpec) bool { return s.Redirects == 2 }},
		{`{"redirects": 0.5}`, func(s *BackgroundSpec) bool { return s.Redirects == 0 }},
		{`{"redirects": -0.5}`, func(s *BackgroundSpec) bool { return s.Redirects == 0 }},
		{`{"redirects": -1}`, func(s *BackgroundSpec) bool { return s.Redirects == -1 }},
		{`{"redirects": -7}`, func(s *BackgroundSpec) bool { return s.Redirects == -1 }},
		{`{"tls_verify_peer": false}`, func(s *BackgroundSpec) bool { return !s.VerifyPeer && s.VerifyHost }},
		{`{"tls_verify_host": false}`, func(s *BackgroundSpec) bool { return s.VerifyPeer && !s.VerifyHost }},
		{`{"tls_verify_peer": true, "tls_verify_host": true}`, func(s *BackgroundSpec) bool { return s.VerifyPeer && s.VerifyHost }},
		{`{"proxy": "http://127.0.0.1:28080"}`, func(s *BackgroundSpec) bool { return s.Proxy == Some("http://127.0.0.1:28080") }},
		{`{"proxy": ""}`, func(s *BackgroundSpec) bool { return s.Proxy == Some("") }},
		{`{"sourceip": "127.0.0.1"}`, func(s *BackgroundSpec) bool { return s.SourceIP == Some("127.0.0.1") }},
		{`{"username": "oracle", "password": "s3cret"}`, func(s *BackgroundSpec) bool {
			return s.Username == Some("oracle") && s.Password == Some("s3cret")
		}},
		{`{"username": "a\u0000b"}`, func(s *BackgroundSpec) bool { return s.Username == Some("a") }},
		{`{"aws_sigv4": "aws:amz:us-east-1:s3", "username": "AKIDEXAMPLE", "password": "secret"}`, func(s *BackgroundSpec) bool {
			return s.AWSSigV4 == Some("aws:amz:us-east-1:s3")
		}},
		{`{"method": "DELETE"}`, func(s *BackgroundSpec) bool { return s.Method == "DELETE" && s.CustomMethod && s.Body.Kind == BodyNone }},
		{`{"method": "HEAD", "timeout": 2}`, func(s *BackgroundSpec) bool { return s.Method == "HEAD" && s.CustomMethod }},
		{`{"method": ""}`, func(s *BackgroundSpec) bool { return s.Method == "" && s.CustomMethod }},
		// unknown_options_ignored
		{`{"bogus": 1, "timeout_ms": "x", "tls_verify": "no"}`, func(s *BackgroundSpec) bool { return s.Timeout == 0 && s.VerifyPeer }},
		// options_list_is_empty_array
		{`["timeout", "x"]`, func(s *BackgroundSpec) bool { return s.Timeout == 0 && s.Method == "GET" }},
		{`[{"method": "PUT", "post_file": 1}]`, func(s *BackgroundSpec) bool { return s.Method == "GET" && s.Body.Kind == BodyNone }},
		// a repeated key: the last value wins
		{`{"timeout": "x", "timeout": 3}`, func(s *BackgroundSpec) bool { return s.Timeout == 3*sec }},
	}
	for _, c := range cases {
		spec, err := ParseBackgroundRequest("http://127.0.0.1:28080/x", []byte(c.opts), nil, false)
		if err != nil {
			t.Errorf("%s: %v", c.opts, err)
			continue
		}
		if !c.check(spec) {
			t.Errorf("%s: %+v", c.opts, spec)
		}
	}
}

func TestBackgroundURL(t *testing.T) {
	for _, c := range []struct {
		url  string
		want int
	}{
		{"http://127.0.0.1:28080/x", 0},
		{"https://example.com/", 0},
		{"HTTP://example.com", 0},
		{"example.com/x", 0}, // curl guesses http
		{"foo://127.0.0.1:28080/", 1},
		{"file:///tmp/halon-oracle/files/small.txt", 1},
		{"gopher://127.0.0.1:28080/_GET%20/via-gopher%20HTTP/1.0%0D%0A", 1},
		{"ftp://example.com/", 1},
		{"http://127.0.0.1:28080/a b", 3},
		{"", 3},
		{"http://h/a\x00 b", 0}, // C sees "http://h/a"
	} {
		spec, err := ParseBackgroundRequest(c.url, nil, nil, false)
		if err != nil {
			t.Fatalf("%q: %v", c.url, err)
		}
		if spec.URLError != c.want {
			t.Errorf("%q: URLError %d, want %d", c.url, spec.URLError, c.want)
		}
	}
	spec, _ := ParseBackgroundRequest("http://h/a\x00b", nil, nil, false)
	if spec.URL != "http://h/a" {
		t.Errorf("URL not cut at NUL: %q", spec.URL)
	}
}

func TestBackgroundHeaders(t *testing.T) {
	cases := []struct {
		opts string
		body bool
		want []string
	}{
		// headers_add_remove_empty
		{`{"headers": ["X-A: 1", "Accept:", "X-Empty;", 42, "User-Agent: halon-oracle"]}`, false,
			[]string{"X-A: 1", "Accept:", "X-Empty;", "User-Agent: halon-oracle"}},
		{`{"headers": {"b": "X-B: 2", "a": "X-A: 1", "n": null}}`, false, []string{"X-B: 2", "X-A: 1"}},
		{`{"headers": ["X-N: a\u0000b", true, {"x": "y"}, ["z"]]}`, false, []string{"X-N: a"}},
		{`{"headers": "X: 1"}`, false, nil},
		{`{"headers": []}`, false, nil},
		// post_string_custom_ct: the user's entry stays, curl's form type is not added here
		{`{"headers": ["Content-Type: application/json"]}`, true, []string{"Content-Type: application/json"}},
	}
	for _, c := range cases {
		spec, err := ParseBackgroundRequest("http://h/", []byte(c.opts), []byte("{}"), c.body)
		if err != nil {
			t.Fatalf("%s: %v", c.opts, err)
		}
		if strings.Join(spec.Headers, "|") != strings.Join(c.want, "|") || len(spec.Headers) != len(c.want) {
			t.Errorf("%s: headers %q, want %q", c.opts, spec.Headers, c.want)
		}
	}
}

func TestBackgroundBodyKinds(t *testing.T) {
	files := bgTestFiles(t)
	type want struct {
		kind    BodyKind
		method  string
		custom  bool
		headers []string
		ctype   string
		base64  bool
	}
	cases := []struct {
		name    string
		opts    any
		body    []byte
		bodySet bool
		want    want
		exc     string
	}{
		{"none", nil, nil, false, want{kind: BodyNone, method: "GET"}, ""},
		{"post_string_default_ct", nil, []byte("a=1&b=2"), true,
			want{kind: BodyString, method: "POST", ctype: "application/x-www-form-urlencoded"}, ""},
		{"empty string body", nil, []byte{}, true, want{kind: BodyString, method: "POST", ctype: "application/x-www-form-urlencoded"}, ""},
		{"nil string body", nil, nil, true, want{kind: BodyString, method: "POST", ctype: "application/x-www-form-urlencoded"}, ""},
		{"post_string_binary", nil, []byte("\x00\x01\x02\x03\xff\x00AB"), true,
			want{kind: BodyString, method: "POST", ctype: "application/x-www-form-urlencoded"}, ""},
		{"method_put_string", map[string]any{"method": "PUT"}, []byte("x"), true,
			want{kind: BodyString, method: "PUT", custom: true, ctype: "application/x-www-form-urlencoded"}, ""},
		{"encoder_ignored_for_string_post", map[string]any{"encoder": "base64"}, []byte("raw text"), true,
			want{kind: BodyString, method: "POST", ctype: "application/x-www-form-urlencoded"}, ""},
		{"file_post", map[string]any{"post_file": files["small.txt"]}, nil, false,
			want{kind: BodyFile, method: "POST", headers: []string{"Content-Type: application/octet-stream"}, ctype: "application/octet-stream"}, ""},
		{"file_post_custom_ct", map[string]any{"post_file": files["small.txt"], "headers": []string{"content-type: text/csv"}}, nil, false,
			want{kind: BodyFile, method: "POST", headers: []string{"content-type: text/csv"}, ctype: "application/octet-stream"}, ""},
		{"file_post Content-Type; is not a user type", map[string]any{"post_file": files["small.txt"], "headers": []string{"Content-Type;"}}, nil, false,
			want{kind: BodyFile, method: "POST", headers: []string{"Content-Type;", "Content-Type: application/octet-stream"}, ctype: "application/octet-stream"}, ""},
		{"file_post_put", map[string]any{"post_file": files["small.txt"], "method": "PUT"}, nil, false,
			want{kind: BodyFile, method: "PUT", custom: true, headers: []string{"Content-Type: application/octet-stream"}, ctype: "application/octet-stream"}, ""},
		{"file_post_base64", map[string]any{"post_file": files["bin200.bin"], "encoder": "base64"}, nil, false,
			want{kind: BodyFile, method: "POST", headers: []string{"Content-Type: application/octet-stream"}, ctype: "application/octet-stream", base64: true}, ""},
		{"encoder other than base64 ignored", map[string]any{"post_file": files["bin200.bin"], "encoder": "BASE64"}, nil, false,
			want{kind: BodyFile, method: "POST", headers: []string{"Content-Type: application/octet-stream"}, ctype: "application/octet-stream"}, ""},
		{"form", map[string]any{"form": map[string]any{"a": map[string]any{"data": "1"}}}, nil, false,
			want{kind: BodyForm, method: "POST", ctype: "multipart/form-data"}, ""},
		{"empty form", map[string]any{"form": []any{}}, nil, false, want{kind: BodyForm, method: "POST", ctype: "multipart/form-data"}, ""},
		{"post_file missing", map[string]any{"post_file": files["missing"]}, nil, false, want{}, "Bad POST parameter"},
		{"post_file directory", map[string]any{"post_file": files["dir"]}, nil, false, want{}, "Bad POST parameter"},
		{"post_file empty path", map[string]any{"post_file": ""}, nil, false, want{}, "Bad POST parameter"},
		{"post_file number", map[string]any{"post_file": 42}, nil, false, want{}, "Bad type of POST parameter"},
		{"post_file null", map[string]any{"post_file": nil}, nil, false, want{}, "Bad type of POST parameter"},
		{"form string", map[string]any{"form": "a=1"}, nil, false, want{}, "Bad type of POST parameter"},
		{"form null", map[string]any{"form": nil}, nil, false, want{}, "Bad type of POST parameter"},
		{"body and post_file", map[string]any{"post_file": files["small.txt"]}, []byte("x"), true, want{}, "Bad type of POST parameter"},
		{"body and form", map[string]any{"form": []any{}}, []byte("x"), true, want{}, "Bad type of POST parameter"},
		{"post_file and form", map[string]any{"form": []any{}, "post_file": files["small.txt"]}, nil, false, want{}, "Bad type of POST parameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts []byte
			if c.opts != nil {
				opts = bgJSONOpts(t, c.opts)
			}
			spec, err := ParseBackgroundRequest("http://h/", opts, c.body, c.bodySet)
			if c.exc != "" {
				bgWantException(t, err, c.exc)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := c.want
			if spec.Body.Kind != w.kind || spec.Method != w.method || spec.CustomMethod != w.custom ||
				strings.Join(spec.Headers, "|") != strings.Join(w.headers, "|") || spec.Body.ContentType != w.ctype ||
				spec.Body.Base64 != w.base64 {
				t.Fatalf("got kind %v method %q custom %v headers %q ctype %q base64 %v",
					spec.Body.Kind, spec.Method, spec.CustomMethod, spec.Headers, spec.Body.ContentType, spec.Body.Base64)
			}
			if w.kind == BodyString && (!bytes.Equal(spec.Body.Data, c.body) || spec.Body.Data == nil) {
				t.Errorf("data %q", spec.Body.Data)
			}
		})
	}
	// the string body is copied
	b := []byte("abc")
	spec, _ := ParseBackgroundRequest("http://h/", nil, b, true)
	b[0] = 'X'
	if string(spec.Body.Data) != "abc" {
		t.Errorf("body not copied")
	}
}

// bgOpenAll reads a body as the transfer would.
func bgOpenAll(t *testing.T, spec *BackgroundSpec) ([]byte, *BodyReader, error) {
	t.Helper()
	br, err := spec.OpenBody()
	if err != nil || br == nil {
		return nil, br, err
	}
	defer br.Close()
	got, err := io.ReadAll(br)
	return got, br, err
}

func TestBackgroundOpenBody(t *testing.T) {
	files := bgTestFiles(t)
	parse := func(opts any, body []byte, set bool) *BackgroundSpec {
		t.Helper()
		spec, err := ParseBackgroundRequest("http://h/", bgJSONOpts(t, opts), body, set)
		if err != nil {
			t.Fatal(err)
		}
		return spec
	}
	// no body
	if br, err := parse(map[string]any{}, nil, false).OpenBody(); br != nil || err != nil {
		t.Errorf("no body: %v %v", br, err)
	}
	// string (binary-safe)
	bin := []byte("\x00\x01\x02\x03\xff\x00AB")
	if got, br, err := bgOpenAll(t, parse(map[string]any{}, bin, true)); err != nil || !bytes.Equal(got, bin) || br.Len != 8 {
		t.Errorf("string body: %q %v", got, err)
	}
	// file, read at transfer time, opened again for every attempt
	spec := parse(map[string]any{"post_file": files["small.txt"]}, nil, false)
	for i := 0; i < 2; i++ {
		if got, br, err := bgOpenAll(t, spec); err != nil || string(got) != "hello from a file\n" || br.Len != 18 {
			t.Errorf("file body: %q %v", got, err)
		}
	}
	// file_post_base64: the oracle's recorded body (200 bytes: complete in the plugin too)
	const oracleB64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\nMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f\nYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6P\nkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/\nwMHCw8TFxsc=\n"
	got, br, err := bgOpenAll(t, parse(map[string]any{"post_file": files["bin200.bin"], "encoder": "base64"}, nil, false))
	if err != nil || string(got) != oracleB64 || br.Len != 273 {
		t.Errorf("file_post_base64: len %d/%d %v\n%q", len(got), br.Len, err, got)
	}
	// file_post_base64_tail and file_post_base64_small: complete and correct, unlike the
	// plugin (designed difference)
	for _, name := range []string{"tail32778.bin", "bin20.bin", "small.txt", "empty.bin"} {
		raw, _ := os.ReadFile(files[name])
		got, br, err := bgOpenAll(t, parse(map[string]any{"post_file": files[name], "encoder": "base64"}, nil, false))
		if err != nil || int64(len(got)) != br.Len {
			t.Fatalf("%s: %v, %d bytes for Len %d", name, err, len(got), br.Len)
		}
		if want := bgEVPLines(raw); string(got) != want {
			t.Errorf("%s: base64 differs", name)
		}
		dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(got), "\n", ""))
		if err != nil || !bytes.Equal(dec, raw) {
			t.Errorf("%s: does not decode to the file", name)
		}
	}
	// the file vanished between parse and transfer: curl's read error
	tmp := filepath.Join(t.TempDir(), "gone")
	_ = os.WriteFile(tmp, []byte("x"), 0o600)
	gone := parse(map[string]any{"post_file": tmp}, nil, false)
	_ = os.Remove(tmp)
	_, _, err = bgOpenAll(t, gone)
	var ce *curlError
	if !errors.As(err, &ce) || ce.code != 26 {
		t.Errorf("vanished file: %v", err)
	}
	// a FIFO: accepted without blocking, read whole when opened (its length is then known)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err == nil {
		spec := parse(map[string]any{"post_file": fifo}, nil, false)
		go func() {
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err == nil {
				_, _ = w.Write([]byte("from a pipe"))
				_ = w.Close()
			}
		}()
		if got, br, err := bgOpenAll(t, spec); err != nil || string(got) != "from a pipe" || br.Len != 11 {
			t.Errorf("fifo body: %q %v", got, err)
		}
	}
	// a form body uses the request's headers for its type
	form := parse(map[string]any{"form": map[string]any{"a": map[string]any{"data": "q"}}, "headers": []string{"Content-Type: multipart/mixed"}}, nil, false)
	got, br, err = bgOpenAll(t, form)
	if err != nil || !strings.HasPrefix(br.ContentType, "multipart/mixed; boundary=") || !strings.Contains(string(got), "Content-Disposition: attachment; name=\"a\"") {
		t.Errorf("form body: %q %q %v", br.ContentType, got, err)
	}
}

// bgEVPLines is OpenSSL's EVP base64: 64-character lines, each ended by LF.
func bgEVPLines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 64 {
		out.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	if s != "" {
		out.WriteString(s + "\n")
	}
	return out.String()
}

func TestBackgroundForm(t *testing.T) {
	files := bgTestFiles(t)
	parse := func(form string) (*BackgroundSpec, error) {
		return ParseBackgroundRequest("http://h/", []byte(`{"form": `+form+`}`), nil, false)
	}
	spec, err := parse(`{"z": {"data": "1"}, "a": {"data": {"b64": "AP8="}, "type": "x/y", "filename": "f", "encoder": "BASE64"},
		"m": {"file": "` + files["part.txt"] + `", "type": 5, "filename": null, "encoder": "gzip"},
		"o": {"data": {"file": "` + files["small.txt"] + `"}}, "z2\u0000x": {"data": ""}}`)
	if err != nil {
		t.Fatal(err)
	}
	parts := spec.Body.Form.Parts
	want := []MimePart{
		{Name: "z", HasName: true, Data: []byte("1")},
		{Name: "a", HasName: true, Data: []byte{0, 0xff}, Type: "x/y", HasType: true, Filename: "f", HasFilename: true, Encoder: "base64"},
		{Name: "m", HasName: true, File: files["part.txt"]},
		{Name: "o", HasName: true, File: files["small.txt"]},
		{Name: "z2", HasName: true, Data: []byte{}},
	}
	if len(parts) != len(want) {
		t.Fatalf("%d parts", len(parts))
	}
	for i := range want {
		g, w := parts[i], want[i]
		if g.Name != w.Name || g.HasName != w.HasName || !bytes.Equal(g.Data, w.Data) || (g.Data == nil) != (w.Data == nil) ||
			g.Type != w.Type || g.HasType != w.HasType || g.Filename != w.Filename || g.HasFilename != w.HasFilename ||
			g.Encoder != w.Encoder || g.File != w.File {
			t.Errorf("part %d: %+v, want %+v", i, g, w)
		}
	}
	// a list gives parts without a name
	spec, err = parse(`[{"data": "a"}, {"data": "b", "filename": "x.txt"}]`)
	if err != nil || len(spec.Body.Form.Parts) != 2 || spec.Body.Form.Parts[0].HasName || spec.Body.Form.Parts[1].HasName {
		t.Fatalf("list form: %v", err)
	}
	for _, c := range []struct{ form, want string }{
		{`{"a": "text"}`, "Bad data type"},
		{`{"a": 5}`, "Bad data type"},
		{`[null]`, "Bad data type"},
		{`{"a": {}}`, "Bad data type"},
		{`{"a": {"type": "t"}}`, "Bad data type"},
		{`{"a": {"data": 5}}`, "Bad data type"},
		{`{"a": {"data": null}}`, "Bad data type"},
		{`{"a": {"data": ["x"]}}`, "Bad data type"},
		{`{"a": {"data": {"b64": "!!"}}}`, "Bad data type"},
		{`{"a": {"data": {"b64": 5}}}`, "Bad data type"},
		{`{"a": {"data": {"b64": "AA==", "x": 1}}}`, "Bad data type"},
		{`{"a": {"data": {"x": "y"}}}`, "Bad data type"},
		{`{"a": {"data": "x", "file": "` + files["small.txt"] + `"}}`, "Bad data type"},
		{`{"a": {"file": 5}}`, "Bad data type"},
		{`{"a": {"file": "` + files["missing"] + `"}}`, "Bad POST parameter"},
		{`{"a": {"data": {"file": "` + files["dir"] + `"}}}`, "Bad POST parameter"},
		{`{"a": {"file": ""}}`, "Bad POST parameter"},
		// the first bad field wins
		{`{"a": {"file": "` + files["missing"] + `"}, "b": 5}`, "Bad POST parameter"},
		{`{"b": 5, "a": {"file": "` + files["missing"] + `"}}`, "Bad data type"},
	} {
		_, err := parse(c.form)
		bgWantException(t, err, c.want)
	}
	// a fresh boundary per request
	a, _ := parse(`[]`)
	b, _ := parse(`[]`)
	if a.Body.Form.Boundary == b.Body.Form.Boundary || !regexp.MustCompile(`^-{24}[0-9a-f]{16}$`).MatchString(a.Body.Form.Boundary) {
		t.Errorf("boundaries %q %q", a.Body.Form.Boundary, b.Body.Form.Boundary)
	}
}

// TestBackgroundOracleReplay replays every call of the recorded Halon oracle through
// ParseBackgroundRequest when the oracle is available: exceptions must match exactly
// (the pool-level ones excepted), every other call must be accepted, multipart bodies
// must match byte for byte (boundary normalised), File posts with the base64 encoder
// must carry the complete encoding, and the aws_sigv4 request must be signed alike.
func TestBackgroundOracleReplay(t *testing.T) {
	dir := os.Getenv("HC_HALON_ORACLE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "oracle", "halon")
	}
	data, err := os.ReadFile(filepath.Join(dir, "results", "halon-emu.json"))
	if err != nil {
		t.Skipf("Halon oracle not available: %v", err)
	}
	var oracle struct {
		Results map[string]struct {
			Call   map[string]json.RawMessage `json:"call"`
			Result map[string]any             `json:"result"`
			Reqs   []struct {
				Method  string      `json:"method"`
				Target  string      `json:"target"`
				Headers [][2]string `json:"headers"`
				Body    *string     `json:"body"`
				BodyB64 string      `json:"body_b64"`
			} `json:"requests"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &oracle); err != nil {
		t.Fatal(err)
	}
	files := bgTestFiles(t)
	p := bgTestPKI(t)
	// the oracle's work-dir paths become the test's files, and PEM paths PEM texts
	var subst []string
	for _, name := range []string{"small.txt", "part.txt", "bin20.bin", "bin200.bin", "tail32778.bin"} {
		subst = append(subst, `"/tmp/halon-oracle/files/`+name+`"`, string(bgJSONOpts(t, files[name])))
	}
	for name, text := range map[string]string{"client.crt": p.certPEM, "client.key": p.keyPEM, "ca.crt": p.caPEM} {
		subst = append(subst, `"/tmp/halon-oracle/certs/`+name+`"`, string(bgJSONOpts(t, text)))
	}
	fix := strings.NewReplacer(subst...)
	// withKey adds "key": raw to a JSON object text, keeping its order.
	withKey := func(obj []byte, key string, raw []byte) []byte {
		o := strings.TrimSpace(string(obj))
		if o == "" || o == "null" || o == "{}" {
			return []byte(`{"` + key + `": ` + string(raw) + `}`)
		}
		return []byte(strings.TrimSuffix(o, "}") + `, "` + key + `": ` + string(raw) + `}`)
	}
	boundary := regexp.MustCompile(`-{24}[0-9a-f]{16}`)
	seen := 0
	for id, rec := range oracle.Results {
		call := rec.Call
		if _, ok := call["url"]; !ok {
			continue // exc_url_missing: no URL at all (ErrBadURLParameter)
		}
		seen++
		t.Run(id, func(t *testing.T) {
			var url string
			_ = json.Unmarshal(call["url"], &url)
			optsRaw := []byte(fix.Replace(string(call["options"])))
			var body []byte
			bodySet := false
			if raw, ok := call["post"]; ok {
				raw = json.RawMessage(fix.Replace(string(raw)))
				var str string
				var obj map[string]json.RawMessage
				switch {
				case json.Unmarshal(raw, &str) == nil:
					body, bodySet = []byte(str), true
				case json.Unmarshal(raw, &obj) == nil && obj["b64"] != nil:
					_ = json.Unmarshal(obj["b64"], &str)
					body, _ = base64.StdEncoding.DecodeString(str)
					bodySet = true
				case obj["file"] != nil:
					optsRaw = withKey(optsRaw, "post_file", obj["file"])
				case obj["fields"] != nil:
					optsRaw = withKey(optsRaw, "form", obj["fields"])
				default:
					optsRaw = withKey(optsRaw, "form", raw)
				}
			}
			spec, err := ParseBackgroundRequest(url, optsRaw, body, bodySet)
			exc, _ := rec.Result["exception"].(string)
			if exc != "" && exc != "Missing ID in configuration" {
				bgWantException(t, err, exc)
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if e, _ := rec.Result["error"].(string); e == "Unsupported protocol" || e == "URL using bad/illegal format or missing URL" {
				if CurlStrerror(spec.URLError) != e {
					t.Errorf("URLError %d, want %q", spec.URLError, e)
				}
			}
			if len(rec.Reqs) == 0 {
				return
			}
			req := rec.Reqs[0]
			if req.Method != "" && spec.Method != req.Method {
				t.Errorf("method %q, want %q", spec.Method, req.Method)
			}
			switch {
			case spec.Body.Kind == BodyForm:
				got, br, err := bgOpenAll(t, spec)
				if err != nil {
					t.Fatal(err)
				}
				want := []byte("")
				if req.Body != nil {
					want = []byte(*req.Body)
				} else {
					want, _ = base64.StdEncoding.DecodeString(req.BodyB64)
				}
				norm := func(b []byte) string { return boundary.ReplaceAllString(string(b), "BOUNDARY") }
				if norm(got) != norm(want) || br.Len != int64(len(want)) {
					t.Errorf("multipart body differs:\n got %q\nwant %q", norm(got), norm(want))
				}
				for _, h := range req.Headers {
					if strings.EqualFold(h[0], "Content-Type") && norm([]byte(h[1])) != norm([]byte(br.ContentType)) {
						t.Errorf("Content-Type %q, want %q", br.ContentType, h[1])
					}
				}
			case spec.Body.Kind == BodyFile && spec.Body.Base64:
				got, _, err := bgOpenAll(t, spec)
				raw, _ := os.ReadFile(spec.Body.Path)
				if err != nil || string(got) != bgEVPLines(raw) {
					t.Errorf("base64 file body wrong: %v", err)
				}
			case spec.Body.Kind == BodyFile || spec.Body.Kind == BodyString:
				got, _, err := bgOpenAll(t, spec)
				if err != nil || (req.Body != nil && string(got) != *req.Body) {
					t.Errorf("body %q, want %v (%v)", got, req.Body, err)
				}
			}
			if spec.AWSSigV4.Set {
				var auth, date, host string
				for _, h := range req.Headers {
					switch h[0] {
					case "Authorization":
						auth = h[1]
					case "X-Amz-Date":
						date = h[1]
					case "Host":
						host = h[1]
					}
				}
				now, err := time.Parse("20060102T150405Z", date)
				if err != nil {
					t.Fatal(err)
				}
				path, query, _ := strings.Cut(req.Target, "?")
				out, err := SignSigV4(&SigV4Input{Param: spec.AWSSigV4.Value, User: spec.Username.Value, Password: spec.Password.Value,
					Method: spec.Method, Path: path, Query: query, Hostname: "127.0.0.1", HostPort: host, Headers: spec.Headers, Now: now})
				if err != nil || out.Authorization != auth || out.Date != "X-Amz-Date: "+date {
					t.Errorf("sigv4: %+v %v, want %q", out, err, auth)
				}
			}
		})
	}
	if seen < 60 {
		t.Errorf("only %d scenarios replayed", seen)
	}
}

package engine

import (
	"strconv"
	"strings"
	"testing"
)

func TestBuildConnURL(t *testing.T) {
	tests := []struct{ base, app, want string }{
		{"h:1/api", "/items?id=1", "http://h:1/api/items?id=1"},
		{"h:1/api", "x", "http://h:1/api/x"},
		{"h:1/api/", "x", "http://h:1/api//x"},
		{"h:1/api/", "/mailbox", "http://h:1/api//mailbox"},
		{"h:1/api", "", "http://h:1/api"},
		{"h:1", "", "http://h:1"},
		{"h:1", "x", "http://h:1/x"},
		{"h:1/api?key=1", "/x", "http://h:1/api?key=1/x"},
		{"h:1/api", "?a=1", "http://h:1/api/?a=1"},
	}
	for _, tc := range tests {
		c := &Connection{Scheme: "http", URL: tc.base}
		if got := buildConnURL(c, tc.app); got != tc.want {
			t.Errorf("buildConnURL(%q, %q) = %q, want %q", tc.base, tc.app, got, tc.want)
		}
	}
}

func TestParseCurlURL(t *testing.T) {
	tests := []struct {
		in       string
		code     int
		hostPort string
		target   string
		eff      string
	}{
		{in: "http://127.0.0.1:28080/api/plain?q=1", hostPort: "127.0.0.1:28080", target: "/api/plain?q=1", eff: "http://127.0.0.1:28080/api/plain?q=1"},
		{in: "http://h", hostPort: "h", target: "/", eff: "http://h/"},
		{in: "HTTP://h:80/x", hostPort: "h", target: "/x", eff: "http://h:80/x"},
		{in: "https://h:443/x", hostPort: "h", target: "/x"},
		{in: "https://h:8443/x", hostPort: "h:8443", target: "/x"},
		{in: "http://h/api/a/../b/./c", target: "/api/b/c"},
		{in: "http://h/a/b/../../..", target: "/"},
		{in: "http://h/x#frag", target: "/x", eff: "http://h/x#frag"},
		{in: "http://h/x?a=1#f", target: "/x?a=1"},
		{in: "http://h/caf\u00e9", target: "/caf%c3%a9"},
		{in: "http://h/a%20b?x=a|b&y=1+2", target: "/a%20b?x=a|b&y=1+2"},
		{in: `http://h/<>"|`, target: `/<>"|`},
		{in: "http://h/q?d=../x", target: "/q?d=../x"},
		{in: "http://[::1]:8080/x", hostPort: "[::1]:8080", target: "/x"},
		{in: "http://h:/x", hostPort: "h", target: "/x"},
		{in: "h:1/x", hostPort: "h:1", target: "/x"}, // scheme guessed
		{in: "http://h/a b", code: 3},
		{in: "http://h/a\tb", code: 3},
		{in: "http://h/a\x7fb", code: 3},
		{in: ":///x", code: 3},
		{in: "http://h:99999/", code: 3},
		{in: "http://h:8a/", code: 3},
		{in: "http://h<x>/", code: 3},
		{in: "ftp://h/", code: 1},
		{in: "ftp.example.com/x", code: 1},
		{in: "gopher://h/", code: 1},
		{in: "", code: 3},
	}
	for _, tc := range tests {
		u, err := parseCurlURL(tc.in, parseOptions{})
		if tc.code != 0 {
			if err == nil || err.code != tc.code {
				t.Errorf("parseCurlURL(%q) = %v, want code %d", tc.in, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseCurlURL(%q): %v", tc.in, err)
			continue
		}
		if tc.hostPort != "" && u.hostPort() != tc.hostPort {
			t.Errorf("%q: hostPort %q, want %q", tc.in, u.hostPort(), tc.hostPort)
		}
		if u.target() != tc.target {
			t.Errorf("%q: target %q, want %q", tc.in, u.target(), tc.target)
		}
		if tc.eff != "" && u.String() != tc.eff {
			t.Errorf("%q: effective %q, want %q", tc.in, u.String(), tc.eff)
		}
	}
}

func TestParseCurlURLUserinfo(t *testing.T) {
	u, err := parseCurlURL("http://qu%40x:p%3As@h/x", parseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u.user != "qu@x" || u.pass != "p:s" || !u.hasPass {
		t.Fatalf("userinfo = %q %q", u.user, u.pass)
	}
	if got := u.redacted(); got != "http://qu%40x:***@h/x" {
		t.Errorf("redacted = %q", got)
	}
	u, _ = parseCurlURL("http://au@h/", parseOptions{})
	if u.user != "au" || u.hasPass {
		t.Errorf("user without password: %q %v", u.user, u.hasPass)
	}
}

func TestResolveLocation(t *testing.T) {
	base, _ := parseCurlURL("http://h:1/api/start?x=1", parseOptions{})
	tests := []struct {
		loc, want string
		code      int
	}{
		{loc: "/api/final", want: "http://h:1/api/final"},
		{loc: "final", want: "http://h:1/api/final"},
		{loc: "../top", want: "http://h:1/top"},
		{loc: "?y=2", want: "http://h:1/api/start?y=2"},
		{loc: "//other:2/z", want: "http://other:2/z"},
		{loc: "http://h:1/elsewhere?x=1", want: "http://h:1/elsewhere?x=1"},
		{loc: "/a b?c d", want: "http://h:1/a%20b?c+d"},
		{loc: "ftp://h/x", code: 1},
	}
	for _, tc := range tests {
		u, err := resolveLocation(base, tc.loc)
		if tc.code != 0 {
			if err == nil || err.code != tc.code {
				t.Errorf("resolve %q: %v, want code %d", tc.loc, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("resolve %q: %v", tc.loc, err)
			continue
		}
		if u.String() != tc.want {
			t.Errorf("resolve %q = %q, want %q", tc.loc, u.String(), tc.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("http://u:secret@h/x"); got != "http://u:***@h/x" {
		t.Errorf("redactURL = %q", got)
	}
	if got := redactURL("http://h/x@y"); got != "http://h/x@y" {
		t.Errorf("redactURL path @ = %q", got)
	}
}

// TestURLKeys checks the origin key and Host value against their definitions, for URLs
// where they are slices of the normalised URL and for those where they are not.
func TestURLKeys(t *testing.T) {
	for _, raw := range []string{
		"http://10.0.0.1:8080/x", "http://10.0.0.1:80/x", "http://10.0.0.1/x", "https://10.0.0.1:443",
		"https://10.0.0.1:80/", "http://Example.COM:8080/a?b#c", "http://example.com:08080/",
		"http://[::1]:8080/", "http://[::1]/", "http://u:p@10.0.0.1:8080/", "http://u@host:1/",
		"10.0.0.1:9000/path", "HTTP://h:65535",
	} {
		u, cerr := parseCurlURL(raw, parseOptions{})
		if cerr != nil {
			t.Fatalf("%s: %v", raw, cerr)
		}
		wantOrigin := u.scheme + "://" + strings.ToLower(u.hostname) + ":" + strconv.Itoa(u.port)
		wantHostPort := u.host
		if u.port != defaultPort(u.scheme) {
			wantHostPort = u.host + ":" + strconv.Itoa(u.port)
		}
		if u.originKey() != wantOrigin || u.hostPort() != wantHostPort || u.String() != u.format(true) {
			t.Errorf("%s: origin %q hostPort %q url %q; want %q %q %q", raw, u.originKey(), u.hostPort(),
				u.String(), wantOrigin, wantHostPort, u.format(true))
		}
	}
}

package engine

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestHTTPConGrammar covers the name, "=>", scheme, userinfo and URL rules of spec §2,
// and the error positions Kamailio reports ("invalid curl parameter [...] at [pos]").
func TestHTTPConGrammar(t *testing.T) {
	type want struct {
		name, scheme, url string
		user, pass        OptString
	}
	tests := []struct {
		desc   string
		val    string
		want   want
		errPos int // >= 0: an error at this position is expected
	}{
		{"basic", "c1=>http://127.0.0.1:28080/api", want{name: "c1", scheme: "http", url: "127.0.0.1:28080/api"}, -1},
		{"spaces around arrow (oracle httpcon_spaces_around_arrow)", " c1 => http://h/api", want{name: "c1", scheme: "http", url: "h/api"}, -1},
		{"tabs and newlines are blanks", "\tc1\r\n=>\t http://h", want{name: "c1", scheme: "http", url: "h"}, -1},
		{"empty name", "=>http://h", want{name: "", scheme: "http", url: "h"}, -1},
		{"name with odd characters", "a/b:c>=>http://h", want{name: "a/b:c>", scheme: "http", url: "h"}, -1},
		{"uppercase scheme kept (oracle httpcon_uppercase_scheme)", "c1=>HTTP://h/api", want{name: "c1", scheme: "HTTP", url: "h/api"}, -1},
		{"any scheme accepted", "c1=>ftp://h/api", want{name: "c1", scheme: "ftp", url: "h/api"}, -1},
		{"scheme with a space", "c1=>sp ace://h", want{name: "c1", scheme: "sp ace", url: "h"}, -1},
		{"empty scheme", "c1=>://h", want{name: "c1", scheme: "", url: "h"}, -1},
		{"empty host accepted", "c1=>http://", want{name: "c1", scheme: "http", url: ""}, -1},
		{"trailing blanks kept in the url", "c1=>http://h /a ", want{name: "c1", scheme: "http", url: "h /a "}, -1},
		{"user and password", "c1=>http://au:ap@h/api", want{name: "c1", scheme: "http", url: "h/api", user: Some("au"), pass: Some("ap")}, -1},
		{"user without password", "c1=>http://au@h/api", want{name: "c1", scheme: "http", url: "h/api", user: Some("au")}, -1},
		{"password split at the first colon", "c1=>http://a:b:c@h", want{name: "c1", scheme: "http", url: "h", user: Some("a"), pass: Some("b:c")}, -1},
		{"empty user and password", "c1=>http://:@h", want{name: "c1", scheme: "http", url: "h", user: Some(""), pass: Some("")}, -1},
		{"no percent-decoding", "c1=>http://p%40ss:x%3A@h", want{name: "c1", scheme: "http", url: "h", user: Some("p%40ss"), pass: Some("x%3A")}, -1},
		{"first @ in the path is userinfo", "c1=>http://h/x@y", want{name: "c1", scheme: "http", url: "y", user: Some("h/x")}, -1},
		{"first @ in the params is userinfo", "c1=>http://h/api;useragent=a@b", want{name: "c1", scheme: "http", url: "b", user: Some("h/api;useragent=a")}, -1},
		{"colon before the @ in the host part", "c1=>http://h:80/api;x=a@b", want{name: "c1", scheme: "http", url: "b", user: Some("h"), pass: Some("80/api;x=a")}, -1},
		{"url ends at the first semicolon", "c1=>http://h/a?x=1;timeout=3", want{name: "c1", scheme: "http", url: "h/a?x=1"}, -1},
		{"a single trailing semicolon is accepted", "c1=>http://h/api;", want{name: "c1", scheme: "http", url: "h/api"}, -1},

		{"space before > (oracle httpcon_space_before_gt)", "c1 = > http://127.0.0.1:28080/api", want{}, 4},
		{"missing scheme (oracle httpcon_missing_scheme)", "c1=>127.0.0.1:28080/api", want{}, 14},
		{"no colon at all", "c1=>h/api", want{}, 9},
		{"one slash", "c1=>http:/h", want{}, 10},
		{"no slash", "c1=>http:h", want{}, 9},
		{"empty value", "", want{}, 0},
		{"blanks only", "   ", want{}, 3},
		{"name only", "c1", want{}, 2},
		{"name and blank", "c1 ", want{}, 3},
		{"second word instead of =>", "c1 x=>http://h", want{}, 3},
		{"= without >", "c1=http://h", want{}, 3},
		{"= at the end", "c1=", want{}, 3},
		{"=> at the end", "c1=>", want{}, 4},
		{"trailing ; after a param", "c1=>http://h/api;timeout=1;", want{}, 17},
		{"value missing in the middle", "c1=>http://h;x=;y=1", want{}, 13},
		{"NUL byte", "c1=>http://h\x00/x", want{}, 12},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			c, _, err := ParseHTTPCon(tt.val, DefaultDefaults())
			if tt.errPos >= 0 {
				var he *HTTPConError
				if !errors.As(err, &he) {
					t.Fatalf("ParseHTTPCon(%q) = %+v, %v; want an *HTTPConError", tt.val, c, err)
				}
				if he.Pos != tt.errPos {
					t.Errorf("error position = %d, want %d (%v)", he.Pos, tt.errPos, err)
				}
				if !strings.Contains(err.Error(), "invalid curl parameter [") || he.Reason == "" {
					t.Errorf("error %q does not say what is wrong", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHTTPCon(%q): %v", tt.val, err)
			}
			got := want{c.Name, c.Scheme, c.URL, c.Username, c.Password}
			if got != tt.want {
				t.Errorf("ParseHTTPCon(%q) =\n  %+v\nwant\n  %+v", tt.val, got, tt.want)
			}
		})
	}
}

// TestHTTPConParams covers the ;params rules: parse_params tokens and quoting, ',' and
// '>' stopping, first occurrence wins, str2int, the value checks and the warnings.
func TestHTTPConParams(t *testing.T) {
	d := DefaultDefaults()
	d.ClientCert = Some("/default.crt")
	tests := []struct {
		desc     string
		params   string
		check    func(c *Connection) bool
		warnings int
		wantErr  string
	}{
		{"timeout", "timeout=1", func(c *Connection) bool { return c.Timeout == 1 }, 0, ""},
		{"timeout 0 means none", "timeout=0", func(c *Connection) bool { return c.Timeout == 0 }, 0, ""},
		{"plus sign", "timeout=+7", func(c *Connection) bool { return c.Timeout == 7 }, 0, ""},
		{"lone plus is 0", "timeout=+", func(c *Connection) bool { return c.Timeout == 0 }, 0, ""},
		{"minus is a bad value", "timeout=-1", func(c *Connection) bool { return c.Timeout == 4 }, 1, ""},
		{"yes is not a number", "timeout=yes", func(c *Connection) bool { return c.Timeout == 4 }, 1, ""},
		{"empty value at the end is 0", "timeout=", func(c *Connection) bool { return c.Timeout == 0 }, 0, ""},
		{"empty value with trailing blanks", "timeout=  ", func(c *Connection) bool { return c.Timeout == 0 }, 0, ""},
		{"bare name is a bad number", "timeout", func(c *Connection) bool { return c.Timeout == 4 }, 1, ""},
		{"overflow is a bad number", "timeout=4294967296", func(c *Connection) bool { return c.Timeout == 4 }, 1, ""},
		{"2^32-1 wraps like C's int", "timeout=4294967295", func(c *Connection) bool { return c.Timeout == -1 }, 0, ""},
		{"spaces around =", "timeout = 3", func(c *Connection) bool { return c.Timeout == 3 }, 0, ""},
		{"blank after ; between params", "maxdatasize=1; timeout=3", func(c *Connection) bool { return c.Timeout == 3 && c.MaxDataSize == 1 }, 0, ""},
		{"maxdatasize", "maxdatasize=10", func(c *Connection) bool { return c.MaxDataSize == 10 }, 0, ""},
		{"comma stops parsing (oracle httpcon_comma_stops_params)", "useragent=UA1,x;maxdatasize=3",
			func(c *Connection) bool { return c.UserAgent == Some("UA1") && c.MaxDataSize == 0 }, 0, ""},
		{"cipher list with a comma loses the rest", "cipher_suites=A,B;timeout=3",
			func(c *Connection) bool { return c.CipherSuites == Some("A") && c.Timeout == 4 }, 0, ""},
		{"first occurrence wins (oracle httpcon_duplicate_param_first_wins)", "useragent=First;useragent=Second",
			func(c *Connection) bool { return c.UserAgent == Some("First") }, 0, ""},
		{"first occurrence wins even when bad", "timeout=abc;timeout=5", func(c *Connection) bool { return c.Timeout == 4 }, 1, ""},
		{"double quotes (oracle useragent_httpcon_quoted)", `useragent="Quoted UA 3"`, func(c *Connection) bool { return c.UserAgent == Some("Quoted UA 3") }, 0, ""},
		{"single quotes", `useragent='single q'`, func(c *Connection) bool { return c.UserAgent == Some("single q") }, 0, ""},
		{"quotes protect , and ;", `useragent="a,b;c";timeout=2`, func(c *Connection) bool { return c.UserAgent == Some("a,b;c") && c.Timeout == 2 }, 0, ""},
		{"empty quotes", `useragent=""`, func(c *Connection) bool { return c.UserAgent == Some("") }, 0, ""},
		{"> after a quoted value stops parsing", `useragent="x">;timeout=2`, func(c *Connection) bool { return c.UserAgent == Some("x") && c.Timeout == 4 }, 0, ""},
		{"> after a blank stops parsing", `useragent=x >;timeout=2`, func(c *Connection) bool { return c.UserAgent == Some("x") && c.Timeout == 4 }, 0, ""},
		{"> inside a token is kept", `useragent=a>b;timeout=2`, func(c *Connection) bool { return c.UserAgent == Some("a>b") && c.Timeout == 2 }, 0, ""},
		{"unknown param ignored (oracle httpcon_unknown_param)", "bogus=1", func(c *Connection) bool { return true }, 1, ""},
		{"verifypeer is unknown", "verifypeer=0", func(c *Connection) bool { return c.VerifyPeer == 1 }, 1, ""},
		{"names are case-sensitive", "Timeout=1", func(c *Connection) bool { return c.Timeout == 4 }, 1, ""},
		{"empty name", "=5", func(c *Connection) bool { return true }, 1, ""},
		{"comma right away", ",timeout=3", func(c *Connection) bool { return c.Timeout == 4 }, 1, ""},
		{"httpredirect 1", "httpredirect=1", func(c *Connection) bool { return c.HTTPRedirect == 1 }, 0, ""},
		{"httpredirect 2 is refused", "httpredirect=2", func(c *Connection) bool { return c.HTTPRedirect == 0 }, 1, ""},
		{"verify_peer 0", "verify_peer=0", func(c *Connection) bool { return c.VerifyPeer == 0 }, 0, ""},
		{"verify_peer 2 is refused", "verify_peer=2", func(c *Connection) bool { return c.VerifyPeer == 1 }, 1, ""},
		{"verify_host any value", "verify_host=7", func(c *Connection) bool { return c.VerifyHost == 7 }, 0, ""},
		{"verify_host 1", "verify_host=1", func(c *Connection) bool { return c.VerifyHost == 1 }, 0, ""},
		{"tlsversion 7", "tlsversion=7", func(c *Connection) bool { return c.TLSVersion == 7 }, 0, ""},
		{"tlsversion 8 is refused", "tlsversion=8", func(c *Connection) bool { return c.TLSVersion == 0 }, 1, ""},
		{"failover", "failover=c2", func(c *Connection) bool { return c.Failover == "c2" }, 0, ""},
		{"tls files", "client_cert=/c;client_key=/k;cipher_suites=A",
			func(c *Connection) bool {
				return c.ClientCert == Some("/c") && c.ClientKey == Some("/k") && c.CipherSuites == Some("A")
			}, 0, ""},
		{"bare client_cert unsets the default", "client_cert", func(c *Connection) bool { return !c.ClientCert.Set }, 0, ""},
		{"empty client_cert at the end", "client_cert=", func(c *Connection) bool { return c.ClientCert == Some("") }, 0, ""},
		{"bare useragent is empty", "useragent", func(c *Connection) bool { return c.UserAgent == Some("") }, 0, ""},

		{"trailing ;", "timeout=1;", nil, 0, "parameter name missing after ';'"},
		{"trailing ; and blanks", "timeout=1; ", nil, 0, "parameter name missing after ';'"},
		{"empty value in the middle", "x=;y=1", nil, 0, "value expected"},
		{"empty value before a comma", "x=,y", nil, 0, "value expected"},
		{"blank at the start of the list", " timeout=3", nil, 0, "invalid character 't'"},
		{"two words", "a b=1", nil, 0, "invalid character 'b'"},
		{"unterminated quote", `useragent="abc`, nil, 0, "unterminated quoted value"},
		{"lone quote", `useragent="`, nil, 0, "unterminated quoted value"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			val := "c1=>http://h/api;" + tt.params
			c, warnings, err := ParseHTTPCon(val, d)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseHTTPCon(%q) error = %v, want one containing %q", val, err, tt.wantErr)
				}
				var he *HTTPConError
				if errors.As(err, &he) && he.Pos != len("c1=>http://h/api;") {
					t.Errorf("error position %d, want %d (Kamailio reports the start of the parameters)", he.Pos, len("c1=>http://h/api;"))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHTTPCon(%q): %v", val, err)
			}
			if !tt.check(c) {
				t.Errorf("ParseHTTPCon(%q) = %+v", val, c)
			}
			if len(warnings) != tt.warnings {
				t.Errorf("warnings = %q, want %d", warnings, tt.warnings)
			}
			for _, w := range warnings {
				if !strings.HasPrefix(w, "httpcon c1: ") {
					t.Errorf("warning %q does not name the connection", w)
				}
			}
		})
	}
}

// TestHTTPConSnapshot checks that a connection copies every modparam it should, and the
// proxy only when the port is set.
func TestHTTPConSnapshot(t *testing.T) {
	d := Defaults{
		ClientCert: Some("/c"), ClientKey: Some("/k"), CipherSuites: Some("A"), UserAgent: Some("UA"),
		HTTPProxy: Some("http://proxy"), HTTPProxyPort: 3128, MaxDataSize: 5, ConnectionTimeout: 6,
		HTTPRedirect: 1, VerifyPeer: 0, VerifyHost: 0, TLSVersion: 6, AuthMethod: 1, KeepConnections: 1,
	}
	c, _, err := ParseHTTPCon("c=>http://h", d)
	if err != nil {
		t.Fatal(err)
	}
	want := Connection{Name: "c", Scheme: "http", URL: "h",
		UserAgent: Some("UA"), ClientCert: Some("/c"), ClientKey: Some("/k"), CipherSuites: Some("A"),
		HTTPProxy: Some("http://proxy"), HTTPProxyPort: 3128, Timeout: 6, MaxDataSize: 5, HTTPRedirect: 1,
		TLSVersion: 6, AuthMethod: 1, KeepConnections: 1}
	if *c != want {
		t.Errorf("snapshot\n got %+v\nwant %+v", *c, want)
	}

	d.HTTPProxyPort = 0
	c, _, _ = ParseHTTPCon("c=>http://h", d)
	if c.HTTPProxy.Set || c.HTTPProxyPort != 0 {
		t.Errorf("proxy copied with port 0: %+v", c)
	}
	d.HTTPProxyPort, d.HTTPProxy = 8080, OptString{}
	c, _, _ = ParseHTTPCon("c=>http://h", d)
	if c.HTTPProxy.Set || c.HTTPProxyPort != 8080 {
		t.Errorf("port without proxy: %+v", c)
	}
	d.HTTPProxyPort, d.HTTPProxy = -1, Some("p") // unsigned in Kamailio: -1 is "> 0"
	c, _, _ = ParseHTTPCon("c=>http://h", d)
	if c.HTTPProxy != Some("p") {
		t.Errorf("negative port: %+v", c)
	}
}

// TestHTTPConErrorIsShort makes sure an error for a huge or hostile value stays short and
// printable: it goes into hc_init's 256-byte error buffer.
func TestHTTPConErrorIsShort(t *testing.T) {
	for _, val := range []string{
		strings.Repeat("x", 1<<20),
		"c1 = > " + strings.Repeat("\x00\x01\xff", 1000),
		strings.Repeat("é", 5000) + "=>" + strings.Repeat("\xff", 100),
		"c=>http://h;" + strings.Repeat("a", 1000) + " b",
		"c=>" + strings.Repeat("\u0085", 100) + "x",
	} {
		_, _, err := ParseHTTPCon(val, DefaultDefaults())
		if err == nil {
			t.Fatalf("no error for %.40q", val)
		}
		msg := err.Error()
		if len(msg) > 200 || !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x00\x01\u0085") {
			t.Errorf("error message too long or not printable (%d bytes): %q", len(msg), msg)
		}
	}
}

func TestHTTPConStr2Int(t *testing.T) {
	for _, tt := range []struct {
		in      string
		present bool
		want    uint32
		ok      bool
	}{
		{"0", true, 0, true}, {"42", true, 42, true}, {"+42", true, 42, true}, {"", true, 0, true},
		{"+", true, 0, true}, {"4294967295", true, 4294967295, true}, {"4294967296", true, 0, false},
		{"-1", true, 0, false}, {" 1", true, 0, false}, {"1 ", true, 0, false}, {"0x10", true, 0, false},
		{"++1", true, 0, false}, {"", false, 0, false},
	} {
		got, ok := str2int(tt.in, tt.present)
		if got != tt.want || ok != tt.ok {
			t.Errorf("str2int(%q, %v) = %d, %v; want %d, %v", tt.in, tt.present, got, ok, tt.want, tt.ok)
		}
	}
}

// httpconSeeds are the httpcon values of the oracle scenarios (placeholders expanded),
// plus the grammar corner cases.
var httpconSeeds = []string{
	"c1=>http://127.0.0.1:28080/api",
	"C1=>http://127.0.0.1:28080/api",
	"c1=>http://nonexistent.invalid/api",
	"c1=>ftp://127.0.0.1:28080/api",
	"c1=>http://127.0.0.1:28080/api;httpredirect=1",
	"c1=>http://127.0.0.1:28080;timeout=5",
	"c1=>http://127.0.0.1:28080/api;maxdatasize=10",
	"c1=>http://127.0.0.1:28080/api;timeout=0",
	"c1=>https://localhost:28082/api",
	"c1=>https://127.0.0.1:28084/api;verify_host=0",
	"c1=>https://127.0.0.1:28083/api;client_cert=/tmp/kam-oracle/certs/client.crt;client_key=/tmp/kam-oracle/certs/client.key",
	"c1=>https://127.0.0.1:28086/api;tlsversion=7",
	"c1=>https://127.0.0.1:28082/api;cipher_suites=NOPE",
	"c1=>http://au:ap@127.0.0.1:28080/api",
	"c1=>http://au@127.0.0.1:28080/api",
	"c1=>http://127.0.0.1:28080/api;useragent=\"Quoted UA 3\"",
	"c1=>http://127.0.0.1:28080/api?key=1",
	"c1=>http://127.0.0.1:28081/primary;failover=c2",
	"c1=>http://127.0.0.1:28080/primary;timeout=1;failover=c2",
	"c1=>http://127.0.0.1:28080/api;bogus=1",
	"c1=>http://127.0.0.1:28080/api;useragent=UA1,x;maxdatasize=3",
	"c1=>127.0.0.1:28080/api",
	" c1 => http://127.0.0.1:28080/api",
	"c1 = > http://127.0.0.1:28080/api",
	"c1=>HTTP://127.0.0.1:28080/api",
	"c1=>http://127.0.0.1:28080/api;useragent=First;useragent=Second",
	"c1=>http://h/x@y", "c1=>http://h/api;", "c1=>http://h/api;timeout=1;", "c1=>http://h;x=;y=1",
	"c1=>http://h;useragent='a'>;timeout=1", "=>://", "",
}

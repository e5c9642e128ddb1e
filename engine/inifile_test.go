package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadINI parses settings followed by a config_file whose content is ini.
func loadINI(settings, ini string) (*Config, error) {
	return parseSettings(settings+"\nconfig_file = /t.ini", memFiles(map[string]string{"/t.ini": ini}))
}

// TestINILexical covers cfg_parser.c's token rules as http_client uses them: comments,
// quoting and escapes, extended alpha in values, invalid characters, token length, and
// where the error is reported (line:col).
func TestINILexical(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		desc    string
		ini     string
		check   func(c *Connection) bool // on [c1]
		errLine int                      // > 0: a fatal error at errLine:errCol is expected
		errCol  int
		errSub  string
	}{
		{"keys are case-insensitive", "[c1]\nURL = http://h\nUserAgent = UA\nTIMEOUT = 3\nKeepConnections = 1\n",
			func(c *Connection) bool {
				return c.URL == "h" && c.UserAgent == Some("UA") && c.Timeout == 3 && c.KeepConnections == 1
			}, 0, 0, ""},
		{"comments anywhere, # cuts an unquoted value", "# head\n[c1] # after the header\n  # indented\nurl = http://h/a#frag\nuseragent=UA# no blank needed\n",
			func(c *Connection) bool { return c.URL == "h/a" && c.UserAgent == Some("UA") }, 0, 0, ""},
		{"a quoted # is kept", "[c1]\nurl = \"http://h/a#frag\"\n", func(c *Connection) bool { return c.URL == "h/a#frag" }, 0, 0, ""},
		{"quoted escapes", "[c1]\nurl = http://h\nfailover = \"a \\\"b\\\" \\\\ \\t\\r\\n\"\n", // not useragent: CR/LF there is refused
			func(c *Connection) bool { return c.Failover == "a \"b\" \\ \t\r\n" }, 0, 0, ""},
		{"a quoted value spans lines", "[c1]\nfailover = \"line1\nline2\"\nurl = http://h\n",
			func(c *Connection) bool { return c.Failover == "line1\nline2" && c.URL == "h" }, 0, 0, ""},
		{"backslash-newline inside quotes joins", "[c1]\nurl = http://h\nuseragent = \"a\\\nb\"\n", func(c *Connection) bool { return c.UserAgent == Some("ab") }, 0, 0, ""},
		{"unquoted escapes", "[c1]\nurl = http://h\nuseragent = a\\ b\\#c\\\"d\n", func(c *Connection) bool { return c.UserAgent == Some("a b#c\"d") }, 0, 0, ""},
		{"backslash-newline in an unquoted value joins", "[c1]\nurl = http://h\nuseragent = ab\\\ncd\n", func(c *Connection) bool { return c.UserAgent == Some("abcd") }, 0, 0, ""},
		{"extended alpha keeps url characters verbatim", "[c1]\nurl = http://u:p@h:80/a;b=c?x=1&y=[2]!$%*()-+|'\"z\n",
			func(c *Connection) bool { return c.URL == `u:p@h:80/a;b=c?x=1&y=[2]!$%*()-+|'"z` }, 0, 0, ""},
		{"CRLF line ends", "[c1]\r\nurl = http://h\r\nuseragent = UA\r\n", func(c *Connection) bool { return c.URL == "h" && c.UserAgent == Some("UA") }, 0, 0, ""},
		{"no newline at the end", "[c1]\nurl = http://h", func(c *Connection) bool { return c.URL == "h" }, 0, 0, ""},
		{"a repeated key: the last wins", "[c1]\nurl = http://a\nurl = http://b\n", func(c *Connection) bool { return c.URL == "b" }, 0, 0, ""},
		{"blanks in the section header", "[ c1 ]\nurl = http://h\n", func(c *Connection) bool { return c.URL == "h" }, 0, 0, ""},
		{"quoted value with UTF-8 and ~{}<>^`", "[c1]\nurl = http://h\nuseragent = \"é ~{}<>^`\"\n", func(c *Connection) bool { return c.UserAgent == Some("é ~{}<>^`") }, 0, 0, ""},
		{"token of 512 bytes", "[c1]\nurl = http://" + long(505) + "\n", func(c *Connection) bool { return len(c.URL) == 505 }, 0, 0, ""},
		{"long comment", "# " + long(10000) + "\n[c1]\nurl = http://h\n", func(c *Connection) bool { return c.URL == "h" }, 0, 0, ""},
		{"value missing at the end of the file is ignored", "[c1]\nurl = http://h\nuseragent =", func(c *Connection) bool { return c.UserAgent == Some(DefaultUserAgent) }, 0, 0, ""},

		{"token of 513 bytes", "[c1]\nurl = http://" + long(506) + "\n", nil, 2, 519, "token longer than 512 bytes"},
		{"quoted token of 513 bytes", "[c1]\nurl = \"" + long(513) + "\"\n", nil, 2, 520, "token longer than 512 bytes"},
		{"key of 513 bytes", "[c1]\n" + long(513) + " = 1\n", nil, 2, 513, "token longer than 512 bytes"},
		{"a blank ends an unquoted value", "[c1]\nurl = http://h\nuseragent = My Agent\n", nil, 3, 16, `end of line expected, found "Agent"`},
		{"~ unquoted", "[c1]\nurl = http://h/~x\n", nil, 2, 16, "invalid character '~'"},
		{"{ unquoted", "[c1]\nurl = {x}\n", nil, 2, 7, "invalid character '{'"},
		{"< unquoted", "[c1]\nurl = http://h/<\n", nil, 2, 16, "invalid character '<'"},
		{"^ unquoted", "[c1]\nurl = http://h/^\n", nil, 2, 16, "invalid character '^'"},
		{"backtick unquoted", "[c1]\nurl = http://h/`\n", nil, 2, 16, "invalid character '`'"},
		{"UTF-8 unquoted", "[c1]\nurl = http://h\nuseragent = é\n", nil, 3, 13, "invalid character 0xc3"},
		{"BOM", "\xef\xbb\xbf[c1]\nurl = http://h\n", nil, 1, 1, "invalid character 0xef"},
		{"NUL unquoted", "[c1]\nurl = http://h\x00\n", nil, 2, 15, "invalid character 0x00"},
		{"NUL quoted", "[c1]\nurl = \"http://h\x00\"\n", nil, 2, 16, "NUL byte"},
		{"unterminated quote", "[c1]\nurl = \"http://h\n", nil, 3, 1, "missing closing"},
		{"bad escape", "[c1]\nurl = http://h\\x\n", nil, 2, 16, "unsupported escape character 'x'"},
		{"value missing", "[c1]\nurl =\nuseragent = x\n", nil, 2, 6, "value missing"},
		{"only a comment as value", "[c1]\nurl = # nothing\n", nil, 2, 16, "value missing"},
		{"no =", "[c1]\nurl http://h\n", nil, 2, 5, `'=' expected, found "http"`},
		{"key at the end of the file", "[c1]\nurl", nil, 2, 4, "'=' missing"},
		{"key before the first section", "url = http://h\n[c1]\nurl = http://h\n", nil, 1, 1, `unsupported option "url": options must follow a [name] section header`},
		{"unknown key", "[c1]\nurl = http://h\nbogus = 1\n", nil, 3, 1, `unsupported option "bogus"`},
		{"a quoted key", "[c1]\n\"url\" = http://h\n", nil, 2, 2, `syntax error: unexpected "url"`},
		{"a line starting with ;", "; comment\n", nil, 1, 1, "syntax error: unexpected ';'"},
		{"section name with -", "[c-1]\nurl = http://h\n", nil, 1, 3, `']' expected after section name "c"`},
		{"section name with .", "[c.1]\nurl = http://h\n", nil, 1, 3, "']' expected"},
		{"quoted section name", "[\"c1\"]\nurl = http://h\n", nil, 1, 3, "invalid or missing connection name"},
		{"empty section name", "[]\n", nil, 1, 2, "invalid or missing connection name"},
		{"unclosed section", "[c1", nil, 1, 4, "']' expected"},
		{"text after the section header", "[c1] x\nurl = http://h\n", nil, 1, 6, `end of line expected, found "x"`},
		{"section name of 513 bytes", "[" + long(513) + "]\n", nil, 1, 514, "token longer than 512 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			c, err := loadINI("", tt.ini)
			if tt.errLine > 0 {
				var ie *INIError
				if !errors.As(err, &ie) {
					t.Fatalf("got %v; want an *INIError", err)
				}
				if ie.Line != tt.errLine || ie.Col != tt.errCol || !strings.Contains(ie.Reason, tt.errSub) {
					t.Errorf("error %q at %d:%d; want %q at %d:%d", ie.Reason, ie.Line, ie.Col, tt.errSub, tt.errLine, tt.errCol)
				}
				if !strings.HasPrefix(err.Error(), "line 2: config_file: /t.ini:") || len(err.Error()) > 255 {
					t.Errorf("error text %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cc := c.Lookup("c1")
			if cc == nil || !tt.check(cc) {
				t.Errorf("c1 = %+v", cc)
			}
		})
	}
}

func TestINIValues(t *testing.T) {
	// Booleans: cfg_bool_values, case-insensitive, quoted or not.
	for v, want := range map[string]int{"yes": 1, "true": 1, "enable": 1, "enabled": 1, "1": 1, "on": 1,
		"no": 0, "false": 0, "disable": 0, "disabled": 0, "0": 0, "off": 0, "YES": 1, "Off": 0, `"on"`: 1} {
		c, err := loadINI("verify_peer = 5\nverify_host = 5\nhttpredirect = 5", "[c1]\nurl = http://h\nverify_peer = "+v+"\nverify_host = "+v+"\nhttpredirect = "+v+"\n")
		if err != nil {
			t.Errorf("bool %q: %v", v, err)
			continue
		}
		if cc := c.Lookup("c1"); cc.VerifyPeer != want || cc.VerifyHost != want || cc.HTTPRedirect != want {
			t.Errorf("bool %q: %+v", v, cc)
		}
	}
	for _, v := range []string{"2", "y", `""`, "yess", "-1", `"ſes"`} {
		if _, err := loadINI("", "[c1]\nurl = http://h\nverify_peer = "+v+"\n"); err == nil || !strings.Contains(err.Error(), "boolean expected") {
			t.Errorf("bool %q: %v", v, err)
		}
	}

	// Integers: str2sint; a sign needs quotes (an unquoted '-' is a delimiter token).
	for v, want := range map[string]int{"5": 5, "0": 0, `"-1"`: -1, `"+1"`: 1, `""`: 0, `"-2147483648"`: -2147483648, "2147483647": 2147483647, "007": 7} {
		c, err := loadINI("", "[c1]\nurl = http://h\ntimeout = "+v+"\nmaxdatasize = "+v+"\nauthmethod = "+v+"\nkeepconnections = "+v+"\nhttpproxyport = "+v+"\n")
		if err != nil {
			t.Errorf("int %q: %v", v, err)
			continue
		}
		if cc := c.Lookup("c1"); cc.Timeout != want || cc.MaxDataSize != want || cc.AuthMethod != want || cc.KeepConnections != want || cc.HTTPProxyPort != want {
			t.Errorf("int %q: %+v", v, cc)
		}
	}
	for v, sub := range map[string]string{"-1": "invalid value starting with '-'", "+1": "invalid value starting with '+'", "5s": "invalid integer value",
		"2147483648": "invalid integer value", "1.5": "end of line expected", "yes": "invalid integer value", `"1 "`: "invalid integer value"} {
		if _, err := loadINI("", "[c1]\nurl = http://h\ntimeout = "+v+"\n"); err == nil || !strings.Contains(err.Error(), sub) {
			t.Errorf("int %q: %v, want %q", v, err, sub)
		}
	}

	// tlsversion: the enum only, case-insensitive; no TLSv1.3, no numbers.
	for v, want := range map[string]int{"DEFAULT": 0, "TLSv1": 1, "SSLv2": 2, "SSLv3": 3, "TLSv1.0": 4, "TLSv1.1": 5, "TLSv1.2": 6, "tlsv1.2": 6, `"TLSv1.1"`: 5} {
		c, err := loadINI("", "[c1]\nurl = http://h\ntlsversion = "+v+"\n")
		if err != nil || c.Lookup("c1").TLSVersion != want {
			t.Errorf("tlsversion %q: %v", v, err)
		}
	}
	for _, v := range []string{"6", "TLSv1.3", "TLSv12", `""`, "7"} {
		if _, err := loadINI("", "[c1]\nurl = http://h\ntlsversion = "+v+"\n"); err == nil || !strings.Contains(err.Error(), "unsupported value") {
			t.Errorf("tlsversion %q: %v", v, err)
		}
	}

	// Strings: "" is an empty, set string; every key; url kept verbatim.
	c, err := loadINI("", `[c1]
url = "http://au:ap@h:80/p;a=b?q=1"
username = ""
password = ""
failover = c2
useragent = ""
client_cert = /c.crt
client_key = ""
cipher_suites = "A:B"
httpproxy = ""
httpproxyport = 1
[c2]
url = http://h
`)
	if err != nil {
		t.Fatal(err)
	}
	want := Connection{Name: "c1", Scheme: "http", URL: "au:ap@h:80/p;a=b?q=1", Username: Some(""), Password: Some(""), Failover: "c2",
		UserAgent: Some(""), ClientCert: Some("/c.crt"), ClientKey: Some(""), CipherSuites: Some("A:B"), HTTPProxy: Some(""), HTTPProxyPort: 1,
		Timeout: 4, VerifyPeer: 1, VerifyHost: 2, AuthMethod: 3, FromFile: true}
	if got := *c.Lookup("c1"); got != want {
		t.Errorf("c1\n got %+v\nwant %+v", got, want)
	}
}

// TestINIDefaults checks that sections start from the final modparams, and the proxy
// rules (the modparam proxy only with its port; a connection's proxy only with a port).
func TestINIDefaults(t *testing.T) {
	c, err := loadINI(`useragent = UA
client_cert = /c
client_key = /k
cipher_suites = C
httpproxy = http://p
httpproxyport = 3128
maxdatasize = 9
connection_timeout = 7
httpredirect = 1
verify_peer = 0
verify_host = 0
tlsversion = 5
authmethod = 1
keep_connections = 1`, "[c1]\nurl = http://h\n")
	if err != nil {
		t.Fatal(err)
	}
	want := Connection{Name: "c1", Scheme: "http", URL: "h", UserAgent: Some("UA"), ClientCert: Some("/c"), ClientKey: Some("/k"),
		CipherSuites: Some("C"), HTTPProxy: Some("http://p"), HTTPProxyPort: 3128, Timeout: 7, MaxDataSize: 9, HTTPRedirect: 1,
		TLSVersion: 5, AuthMethod: 1, KeepConnections: 1, FromFile: true}
	if got := *c.Lookup("c1"); got != want {
		t.Errorf("c1\n got %+v\nwant %+v", got, want)
	}

	for _, tt := range []struct {
		settings, ini string
		proxy         OptString
		port          int
	}{
		{"httpproxy = http://p", "", OptString{}, 0},                                       // port 0: no proxy
		{"httpproxy = http://p", "httpproxyport = 8080\n", OptString{}, 8080},              // the modparam proxy was not copied
		{"", "httpproxy = http://q\n", OptString{}, 0},                                     // a proxy without a port is dropped
		{"", "httpproxy = http://q\nhttpproxyport = 8080\n", Some("http://q"), 8080},       // both in the file
		{"httpproxy = http://p\nhttpproxyport = 1", "httpproxyport = 0\n", OptString{}, 0}, // the file turns it off
		{"", "httpproxy = \"\"\nhttpproxyport = 1\n", Some(""), 1},                         // "" disables proxies in curl
	} {
		c, err := loadINI(tt.settings, "[c1]\nurl = http://h\n"+tt.ini)
		if err != nil {
			t.Fatal(err)
		}
		if cc := c.Lookup("c1"); cc.HTTPProxy != tt.proxy || cc.HTTPProxyPort != tt.port {
			t.Errorf("%q + %q: proxy %+v port %d; want %+v %d", tt.settings, tt.ini, cc.HTTPProxy, cc.HTTPProxyPort, tt.proxy, tt.port)
		}
	}
}

// TestINILIFOQuirk checks fixup_raw_http_client_conn_list: sections are processed last to
// first and the first duplicate name or bad url drops every section above it.
func TestINILIFOQuirk(t *testing.T) {
	names := func(c *Config) string {
		var n []string
		for _, cc := range c.Connections {
			if cc.FromFile {
				n = append(n, cc.Name)
			}
		}
		return strings.Join(n, ",")
	}
	tests := []struct {
		desc, settings, ini string
		want                string // file connections, in order
		warning             string
	}{
		{"all fine", "", "[a]\nurl = http://h/a\n[b]\nurl = http://h/b\n[c]\nurl = http://h/c\n", "a,b,c", ""},
		{"duplicate of an httpcon in the middle", "httpcon = b=>http://h/httpcon",
			"[a]\nurl = http://h/a\n[b]\nurl = http://h/b\n[c]\nurl = http://h/c\n", "c", "the 1 section(s) above it are dropped"},
		{"duplicate of an httpcon at the top", "httpcon = a=>http://h/httpcon",
			"[a]\nurl = http://h/a\n[b]\nurl = http://h/b\n", "b", "no other section is affected"},
		{"duplicate check is case-sensitive", "httpcon = A=>http://h/httpcon", "[a]\nurl = http://h/a\n", "a", ""},
		{"bad url in the middle: created empty, above dropped", "",
			"[a]\nurl = http://h/a\n[b]\nurl = h/b\n[c]\nurl = http://h/c\n", "b,c", "invalid url"},
		{"bad url in the last section", "", "[a]\nurl = http://h/a\n[b]\nurl = http:/b\n", "b", "invalid url"},
		{"url of exactly scheme://", "", "[a]\nurl = http://\n", "a", "invalid url"},
		{"url of scheme:// and one character", "", "[a]\nurl = ://x\n", "a", ""},
		{"empty url", "", "[a]\nurl = \"\"\n", "a", "invalid url"},
		{"two sections with one name: the later wins", "", "[x]\nurl = http://h/first\n[x]\nurl = http://h/second\n", "x", "duplicate connection name"},
		{"a section without url above a stop is never reached", "httpcon = b=>http://h",
			"[a]\nuseragent = x\n[b]\nurl = http://h/b\n", "", "duplicate connection name"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			c, err := loadINI(tt.settings, tt.ini)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(c); got != tt.want {
				t.Errorf("file connections %q, want %q", got, tt.want)
			}
			if tt.warning != "" && !hasWarning(c, tt.warning) {
				t.Errorf("warnings %q, want one with %q", c.Warnings, tt.warning)
			}
			if tt.warning == "" && len(c.Warnings) != 0 {
				t.Errorf("unexpected warnings %q", c.Warnings)
			}
		})
	}

	c, _ := loadINI("", "[a]\nurl = http://h/a\n[b]\nurl = h/b\n[c]\nurl = http://h/c\n")
	if b := c.Lookup("b"); *b != (Connection{Name: "b", FromFile: true}) {
		t.Errorf("a bad-url connection must be empty: %+v", b)
	}
	if c.Lookup("a") != nil || c.Lookup("c").URL != "h/c" {
		t.Errorf("a = %+v, c = %+v", c.Lookup("a"), c.Lookup("c"))
	}
	c, _ = loadINI("", "[x]\nurl = http://h/first\n[x]\nurl = http://h/second\n")
	if c.Lookup("x").URL != "h/second" {
		t.Errorf("x = %+v", c.Lookup("x"))
	}

	// A section without url that is reached is an error (Kamailio crashes on it).
	for _, ini := range []string{"[a]\n", "[a]\nurl = http://h\n[b]\ntimeout = 1\n", "[b]\n[a]\nurl = x\n"} {
		_, err := loadINI("", ini)
		var ie *INIError
		if ini == "[b]\n[a]\nurl = x\n" {
			// [a] has a bad url: processing stops before [b] is reached.
			if err != nil {
				t.Errorf("%q: %v", ini, err)
			}
			continue
		}
		if !errors.As(err, &ie) || !strings.Contains(ie.Reason, "has no url") {
			t.Errorf("%q: %v, want a no-url error", ini, err)
		}
	}
}

func TestINIFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "con.ini"), []byte("[r]\nurl = http://h/rel\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The path is used as given: a relative path is relative to the working directory.
	t.Chdir(dir)
	c, err := ParseSettings("config_file = sub/con.ini")
	if err != nil || c.Lookup("r") == nil {
		t.Fatalf("relative path: %v", err)
	}
	_, err = ParseSettings("config_file = " + filepath.Join(dir, "nope.ini"))
	if err == nil || !strings.Contains(err.Error(), "nope.ini: cannot read the file: no such file") {
		t.Errorf("missing file: %v", err)
	}
	_, err = ParseSettings("config_file = " + dir)
	if err == nil || !strings.Contains(err.Error(), "cannot read the file") {
		t.Errorf("a directory: %v", err)
	}
	// Kamailio reads the path exactly: no trimming inside, no ~ expansion.
	if _, err := ParseSettings("config_file = ~/con.ini"); err == nil {
		t.Error("~ expanded")
	}
}

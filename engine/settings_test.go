package engine

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// settingsOK parses text with files standing in for the file system.
func settingsOK(t *testing.T, text string, files map[string]string) *Config {
	t.Helper()
	c, err := parseSettings(text, memFiles(files))
	if err != nil {
		t.Fatalf("settings %q: %v", text, err)
	}
	return c
}

// settingsErr expects an error containing every one of subs.
func settingsErr(t *testing.T, text string, files map[string]string, subs ...string) error {
	t.Helper()
	c, err := parseSettings(text, memFiles(files))
	if err == nil {
		t.Fatalf("settings %q: no error, got %+v", text, c)
	}
	if c != nil {
		t.Errorf("settings %q: a Config together with the error", text)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("settings %q: error %q does not contain %q", text, err, s)
		}
	}
	return err
}

func memFiles(files map[string]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		data, ok := files[path]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return []byte(data), nil
	}
}

func TestSettingsDefaults(t *testing.T) {
	for _, text := range []string{"", "\n", "# only a comment\n\n  \t\n", "\r\n"} {
		c := settingsOK(t, text, nil)
		want := DefaultDefaults()
		if c.Defaults != want {
			t.Errorf("%q: Defaults = %+v, want %+v", text, c.Defaults, want)
		}
		if c.QueryResult != 1 || c.QueryMaxDataSize != 0 || c.GoMaxProcs != DefaultGoMaxProcs || c.MemoryLimit != 0 ||
			c.ProxyFromEnv || c.CrashLog != "" || len(c.Connections) != 0 || c.HTTPConCount != 0 || len(c.Pools) != 0 ||
			c.CACert.Set || c.NetInterface.Set || c.ConfigFile.Set || len(c.Warnings) != 0 {
			t.Errorf("%q: not the defaults: %+v", text, c)
		}
	}
}

// TestSettingsLineFormat covers the item syntax: first '=', trimming, comments, CRLF.
func TestSettingsLineFormat(t *testing.T) {
	c := settingsOK(t, strings.Join([]string{
		"# a comment",
		"   # an indented comment = with an equals sign",
		"",
		"useragent\t=\t My Agent/1.0 \t",       // inner spaces kept, outer blanks trimmed
		"httpcon = c1=>http://h/api;timeout=2", // split at the first '=' only
		"cacert = /etc/ca.pem\r",               // CRLF
		"netinterface=lo",
		"cipher_suites = a=b",       // '=' in a value
		"client_cert = \"/quoted\"", // no quote processing
	}, "\n"), nil)
	if c.Defaults.UserAgent != Some("My Agent/1.0") {
		t.Errorf("useragent = %+v", c.Defaults.UserAgent)
	}
	if cc := c.Lookup("c1"); cc == nil || cc.URL != "h/api" || cc.Timeout != 2 || cc.UserAgent != Some("My Agent/1.0") {
		t.Errorf("httpcon = %+v", cc)
	}
	if c.CACert != Some("/etc/ca.pem") || c.NetInterface != Some("lo") || c.Defaults.CipherSuites != Some("a=b") ||
		c.Defaults.ClientCert != Some(`"/quoted"`) {
		t.Errorf("strings: %+v", c)
	}

	empty := settingsOK(t, "useragent =\nhttpcon = c=>http://h", nil)
	if empty.Defaults.UserAgent != Some("") || empty.Connections[0].UserAgent != Some("") {
		t.Errorf("an empty useragent must be set and empty: %+v", empty.Defaults.UserAgent)
	}

	settingsErr(t, "useragent = a\njust some words", nil, "line 2:", "no '='")
	settingsErr(t, "= 5", nil, "line 1:", "name missing")
	settingsErr(t, "\n\nhttp_proxy = x", nil, "line 3:", `unknown setting`, `"httpproxy"`)
	settingsErr(t, "HTTPCON = c=>http://h", nil, "line 1: HTTPCON: unknown setting") // names are case-sensitive
	settingsErr(t, "timeout_mode = 1", nil, "not in Kamailio 5.6.3")
	settingsErr(t, "keepconnections = 1", nil, `"keep_connections"`)
	settingsErr(t, "useragent = a\x00b", nil, "line 1:", "NUL")
}

func TestSettingsIntModparams(t *testing.T) {
	names := []string{"httpredirect", "maxdatasize", "connection_timeout", "verify_peer", "verify_host", "tlsversion",
		"authmethod", "httpproxyport", "keep_connections", "query_result", "query_maxdatasize"}
	for _, name := range names {
		for _, v := range []string{"0", "7", "+7", "-7", "2147483647", "-2147483648"} {
			settingsOK(t, name+" = "+v, nil)
		}
		for _, v := range []string{"", "abc", "1.5", "0x10", "1e3", "1 2", "2147483648", "yes", "٣"} {
			settingsErr(t, "\n"+name+" = "+v, nil, "line 2: "+name+": ")
		}
	}
	c := settingsOK(t, "query_result = 0\nquery_maxdatasize = 5\nauthmethod = 1\nhttpproxyport = 3128\nhttpproxy = http://p", nil)
	if c.QueryResult != 0 || c.QueryMaxDataSize != 5 || c.Defaults.AuthMethod != 1 || c.Defaults.HTTPProxyPort != 3128 ||
		c.Defaults.HTTPProxy != Some("http://p") {
		t.Errorf("ints not applied: %+v", c)
	}
}

// TestSettingsOrderRule checks the order trap: an httpcon copies the modparams set before
// its line and ignores the ones after (spec §1; oracle *_modparam_after_httpcon).
func TestSettingsOrderRule(t *testing.T) {
	tests := []struct {
		before, after string
		get           func(*Connection) any
		wantBefore    any // value seen by a connection defined after "before"
		wantDefault   any // value seen by a connection defined first
	}{
		{"verify_peer = 0", "verify_peer = 1", func(c *Connection) any { return c.VerifyPeer }, 0, 1},
		{"verify_host = 0", "verify_host = 2", func(c *Connection) any { return c.VerifyHost }, 0, 2},
		{"httpredirect = 1", "httpredirect = 0", func(c *Connection) any { return c.HTTPRedirect }, 1, 0},
		{"maxdatasize = 100", "maxdatasize = 0", func(c *Connection) any { return c.MaxDataSize }, 100, 0},
		{"useragent = UA", "useragent = other", func(c *Connection) any { return c.UserAgent }, Some("UA"), Some(DefaultUserAgent)},
		{"connection_timeout = 1", "connection_timeout = 9", func(c *Connection) any { return c.Timeout }, 1, 4},
		{"authmethod = 1", "authmethod = 3", func(c *Connection) any { return c.AuthMethod }, 1, 3},
		{"tlsversion = 6", "tlsversion = 0", func(c *Connection) any { return c.TLSVersion }, 6, 0},
		{"keep_connections = 1", "keep_connections = 0", func(c *Connection) any { return c.KeepConnections }, 1, 0},
		{"client_cert = /c", "client_cert = /d", func(c *Connection) any { return c.ClientCert }, Some("/c"), OptString{}},
		{"client_key = /k", "client_key = /l", func(c *Connection) any { return c.ClientKey }, Some("/k"), OptString{}},
		{"cipher_suites = A", "cipher_suites = B", func(c *Connection) any { return c.CipherSuites }, Some("A"), OptString{}},
		{"httpproxyport = 3128\nhttpproxy = http://p", "httpproxyport = 0", func(c *Connection) any { return c.HTTPProxy }, Some("http://p"), OptString{}},
	}
	for _, tt := range tests {
		text := strings.Join([]string{"httpcon = first=>http://h", tt.before, "httpcon = second=>http://h", tt.after}, "\n")
		c := settingsOK(t, text, nil)
		if got := tt.get(c.Lookup("first")); got != tt.wantDefault {
			t.Errorf("%q: connection before it has %v, want %v", tt.before, got, tt.wantDefault)
		}
		if got := tt.get(c.Lookup("second")); got != tt.wantBefore {
			t.Errorf("%q: connection after it has %v, want %v", tt.before, got, tt.wantBefore)
		}
	}
}

// TestSettingsModInit checks mod_init's order: tlsversion reset (connections keep the raw
// value), then config_file (its connections copy the final values), then the
// connection_timeout 0 -> 4 rewrite (after the file's connections copied the 0).
func TestSettingsModInit(t *testing.T) {
	files := map[string]string{"/f.ini": "[f1]\nurl = http://h/file\n"}

	c := settingsOK(t, "tlsversion = 9\nhttpcon = c1=>https://h/api\nconfig_file = /f.ini", files)
	if c.Defaults.TLSVersion != 0 || c.Lookup("c1").TLSVersion != 9 || c.Lookup("f1").TLSVersion != 0 {
		t.Errorf("tlsversion 9: defaults %d, httpcon %d, file %d", c.Defaults.TLSVersion, c.Lookup("c1").TLSVersion, c.Lookup("f1").TLSVersion)
	}
	if !hasWarning(c, "tlsversion 9 unsupported") {
		t.Errorf("no tlsversion warning: %q", c.Warnings)
	}
	c = settingsOK(t, "tlsversion = -1", nil) // unsigned in Kamailio: out of range too
	if c.Defaults.TLSVersion != 0 {
		t.Errorf("tlsversion -1 kept: %d", c.Defaults.TLSVersion)
	}
	c = settingsOK(t, "tlsversion = 7", nil)
	if c.Defaults.TLSVersion != 7 || len(c.Warnings) != 0 {
		t.Errorf("tlsversion 7: %d %q", c.Defaults.TLSVersion, c.Warnings)
	}

	c = settingsOK(t, "connection_timeout = 0\nhttpcon = c1=>http://h\nconfig_file = /f.ini", files)
	if c.Defaults.ConnectionTimeout != 4 || c.Lookup("c1").Timeout != 0 || c.Lookup("f1").Timeout != 0 {
		t.Errorf("timeout 0: defaults %d, httpcon %d, file %d", c.Defaults.ConnectionTimeout, c.Lookup("c1").Timeout, c.Lookup("f1").Timeout)
	}
	if !hasWarning(c, "connection_timeout 0") {
		t.Errorf("no timeout warning: %q", c.Warnings)
	}

	// Oracle config_file_modparam_defaults: modparams after config_file still apply.
	c = settingsOK(t, "config_file = /f.ini\nuseragent = AfterFile/1.0\nmaxdatasize = 3", files)
	if f := c.Lookup("f1"); f.UserAgent != Some("AfterFile/1.0") || f.MaxDataSize != 3 || !f.FromFile {
		t.Errorf("file connection did not take the final values: %+v", f)
	}

	// config_file: the last one wins; the error names its line.
	c = settingsOK(t, "config_file = /missing.ini\nconfig_file = /f.ini", files)
	if c.ConfigFile != Some("/f.ini") || c.Lookup("f1") == nil {
		t.Errorf("last config_file did not win: %+v", c.ConfigFile)
	}
	settingsErr(t, "config_file = /f.ini\n\nconfig_file = /missing.ini", files, "line 3: config_file: /missing.ini: cannot read the file: no such file")
	settingsErr(t, "config_file =", files, `line 1: config_file: "": cannot read the file`)

	// HTTPConCount counts the httpcon connections only (Kamailio's counter quirk).
	c = settingsOK(t, "httpcon = a=>http://h\nhttpcon = b=>http://h\nconfig_file = /f.ini", files)
	if c.HTTPConCount != 2 || len(c.Connections) != 3 {
		t.Errorf("HTTPConCount = %d, connections = %d", c.HTTPConCount, len(c.Connections))
	}
}

func hasWarning(c *Config, sub string) bool {
	for _, w := range c.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestSettingsHTTPCon(t *testing.T) {
	c := settingsOK(t, "httpcon = c1=>http://h;bogus=1\nhttpcon = C1=>http://h", nil)
	if c.Lookup("c1") == nil || c.Lookup("C1") == nil || c.HTTPConCount != 2 {
		t.Errorf("case-sensitive names: %+v", c.Connections)
	}
	if !hasWarning(c, `line 1: httpcon c1: unknown parameter "bogus" ignored`) {
		t.Errorf("warnings %q", c.Warnings)
	}
	settingsErr(t, "httpcon = c1=>http://h/one\n# x\nhttpcon = c1=>http://h/two", nil,
		"line 3: httpcon: duplicate connection name \"c1\" (first defined on line 1)")
	settingsErr(t, "httpcon = c1=>http://h;timeout=1;", nil, "line 1: httpcon: invalid curl parameter [c1=>http://h;timeout=1;] at [13]")
	settingsErr(t, "httpcon =", nil, "line 1: httpcon: invalid curl parameter [] at [0]")
}

func TestSettingsLibrary(t *testing.T) {
	c := settingsOK(t, "crash_log = /var/log/hc-crash.log\ngomaxprocs = 0\nmemory_limit = 512MiB\nproxy_from_environment = 1", nil)
	if c.CrashLog != "/var/log/hc-crash.log" || c.GoMaxProcs != 0 || c.MemoryLimit != 512<<20 || !c.ProxyFromEnv {
		t.Errorf("library settings: %+v", c)
	}
	for v, want := range map[string]int64{"0": 0, "1024": 1024, "1KiB": 1024, "3 MiB": 3 << 20, "2GiB": 2 << 30, "+5": 5} {
		if c := settingsOK(t, "memory_limit = "+v, nil); c.MemoryLimit != want {
			t.Errorf("memory_limit %q = %d, want %d", v, c.MemoryLimit, want)
		}
	}
	for _, v := range []string{"-1", "1KB", "1kib", "1.5GiB", "GiB", "", "9223372036854775807GiB", "99999999999999999999"} {
		settingsErr(t, "memory_limit = "+v, nil, "line 1: memory_limit:")
	}
	if c := settingsOK(t, "", nil); c.MaxBodySize != DefaultMaxBodySize {
		t.Errorf("max_body_size default = %d, want %d", c.MaxBodySize, DefaultMaxBodySize)
	}
	for v, want := range map[string]int64{"0": 0, "1 MiB": 1 << 20, "2GiB": 2 << 30} {
		if c := settingsOK(t, "max_body_size = "+v, nil); c.MaxBodySize != want {
			t.Errorf("max_body_size %q = %d, want %d", v, c.MaxBodySize, want)
		}
	}
	settingsErr(t, "max_body_size = -1", nil, "line 1: max_body_size:")
	if c := settingsOK(t, "gomaxprocs = 16", nil); c.GoMaxProcs != 16 {
		t.Errorf("gomaxprocs = %d", c.GoMaxProcs)
	}
	settingsErr(t, "gomaxprocs = -1", nil, "line 1: gomaxprocs:", "negative")
	settingsErr(t, "gomaxprocs = two", nil, "line 1: gomaxprocs:", "not an integer")
	for _, name := range []string{"proxy_from_environment", "background_loop"} {
		for _, v := range []string{"2", "yes", "", "01"} {
			settingsErr(t, name+" = "+v, nil, "must be 0 or 1")
		}
	}
	for text, off := range map[string]bool{"": false, "background_loop = 1": false, "background_loop = 0": true} {
		if c := settingsOK(t, text, nil); c.NoBackgroundLoop != off {
			t.Errorf("%q: NoBackgroundLoop = %v", text, c.NoBackgroundLoop)
		}
	}
}

func TestSettingsPool(t *testing.T) {
	c := settingsOK(t, `pool = {"id": "default", "max_total": 10, "max_host": 2, "queue": 100}`+"\n"+`pool = {"id":"b"}`, nil)
	want := []PoolConfig{{ID: "default", MaxTotal: 10, MaxHost: 2, Queue: 100}, {ID: "b"}}
	if len(c.Pools) != 2 || c.Pools[0] != want[0] || c.Pools[1] != want[1] {
		t.Errorf("pools = %+v", c.Pools)
	}
	for _, tt := range []struct{ value, want string }{
		{`{}`, "Missing ID in configuration"},
		{`{"id": ""}`, "Missing ID in configuration"},
		{`null`, "Missing ID in configuration"},
		{`{"id": "a", "max_total": -1}`, "max_total must not be negative"},
		{`{"id": "a", "max_host": -1}`, "max_host must not be negative"},
		{`{"id": "a", "queue": -1}`, "queue must not be negative"},
		{`{"id": "a", "size": 1}`, `unknown field "size"`},
		{`{"id": "a"`, "invalid JSON"},
		{`{"id": 1}`, "invalid JSON"},
		{`{"id": "a", "queue": 1.5}`, "invalid JSON"},
		{`{"id": "a"} {"id": "b"}`, "unexpected data after the object"},
		{`["a"]`, "invalid JSON"},
		{``, "invalid JSON"},
	} {
		settingsErr(t, "pool = "+tt.value, nil, "line 1: pool: ", tt.want)
	}
	settingsErr(t, `pool = {"id": "a"}`+"\n"+`pool = {"id": "a"}`, nil, `line 2: pool: duplicate pool id "a" (first defined on line 1)`)
}

// TestSettingsAdversarial feeds hostile input: a result or an error, never a panic, and
// errors short enough for hc_init's error buffer.
func TestSettingsAdversarial(t *testing.T) {
	big := strings.Repeat("A", 1<<20)
	ok := []string{
		"useragent = " + big,
		"httpcon = c=>http://" + big,
		"useragent = \xff\xfe invalid UTF-8 \xc3",
		"httpcon = \xff=>\xfe://\xfd",
		"crash_log = " + big,
		strings.Repeat("# comment\n", 10000),
		strings.Repeat("\r\n", 1000),
	}
	for _, text := range ok {
		if _, err := parseSettings(text, memFiles(nil)); err != nil {
			t.Errorf("%.60q: %v", text, err)
		}
	}
	bad := []string{
		big,                                      // a line with no '='
		big + " = 1",                             // unknown 1 MiB name
		"maxdatasize = " + big,                   // 1 MiB non-number
		"httpcon = " + big,                       // 1 MiB httpcon without =>
		"httpcon = c = > " + big,                 // bad httpcon with a long tail
		"\x00",                                   // NUL
		"useragent = x\x00y",                     // NUL in a value
		"\xff\xfe = 1",                           // invalid UTF-8 name
		"pool = " + `{"id":"` + big + `","x":1}`, // long JSON error
		"pool = {\"" + big + "\": 1}",            // long unknown field
		"config_file = " + big,                   // long missing path
		"config_file = /" + strings.Repeat("\xff", 300), // unprintable path
		strings.Repeat("httpcon = c=>http://h\n", 2),
	}
	for _, text := range bad {
		_, err := parseSettings(text, memFiles(nil))
		if err == nil {
			t.Errorf("%.60q: no error", text)
			continue
		}
		msg := err.Error()
		if len(msg) > 255 || !utf8.ValidString(msg) || strings.ContainsRune(msg, 0) {
			t.Errorf("%.60q: error of %d bytes or not printable: %q", text, len(msg), msg)
		}
	}
}

// oracleCase is a scenario of shared/oracle/scenarios.json translated by hand:
// the modparams in order, the config file, and what Kamailio 5.6.3 did with them.
type oracleCase struct {
	id        string
	modparams []string // "name = value" lines
	ini       string   // config_file text; "" for none
	wantErr   []string // Kamailio refused to start (status config_error)
	check     func(t *testing.T, c *Config)
}

var oracleCases = []oracleCase{
	{id: "config_file_doc_key_http_follow_redirect",
		ini:     "[c1]\nurl = http://127.0.0.1:28080/api\nhttp_follow_redirect = yes\n",
		wantErr: []string{`:3:1: unsupported option "http_follow_redirect" (the key is "httpredirect")`}},
	{id: "config_file_doc_key_keep_connections",
		ini:     "[c1]\nurl = http://127.0.0.1:28080/api\nkeep_connections = 1\n",
		wantErr: []string{`:3:1: unsupported option "keep_connections" (the key is "keepconnections")`}},
	{id: "config_file_tlsversion_numeric",
		modparams: []string{"cacert = /tmp/kam-oracle/certs/ca.crt"},
		ini:       "[c1]\nurl = https://127.0.0.1:28086/api\ntlsversion = 6\n",
		wantErr:   []string{`:3:14: option "tlsversion": unsupported value "6"`}},
	{id: "httpcon_duplicate_name",
		modparams: []string{"httpcon = c1=>http://127.0.0.1:28080/one", "httpcon = c1=>http://127.0.0.1:28080/two"},
		wantErr:   []string{"line 2: httpcon: duplicate connection name"}},
	{id: "httpcon_missing_scheme",
		modparams: []string{"httpcon = c1=>127.0.0.1:28080/api"},
		wantErr:   []string{"line 1: httpcon: invalid curl parameter [c1=>127.0.0.1:28080/api] at [14]"}},
	{id: "httpcon_space_before_gt",
		modparams: []string{"httpcon = c1 = > http://127.0.0.1:28080/api"},
		wantErr:   []string{"line 1: httpcon: invalid curl parameter [c1 = > http://127.0.0.1:28080/api] at [4]"}},

	{id: "config_file_basic", ini: "# comment\n[c1]\nurl = http://127.0.0.1:28080/api\ntimeout = 2\nmaxdatasize = 10\n",
		check: func(t *testing.T, c *Config) {
			if cc := c.Lookup("c1"); cc.Scheme != "http" || cc.URL != "127.0.0.1:28080/api" || cc.Timeout != 2 || cc.MaxDataSize != 10 {
				t.Errorf("c1 = %+v", cc)
			}
		}},
	{id: "config_file_httpredirect_yes", ini: "[c1]\nurl = http://127.0.0.1:28080/api\nhttpredirect = yes\n",
		check: func(t *testing.T, c *Config) {
			if c.Lookup("c1").HTTPRedirect != 1 {
				t.Errorf("c1 = %+v", c.Lookup("c1"))
			}
		}},
	{id: "config_file_tlsversion_enum", modparams: []string{"cacert = /certs/ca.crt"}, ini: "[c1]\nurl = https://127.0.0.1:28086/api\ntlsversion = TLSv1.2\n",
		check: func(t *testing.T, c *Config) {
			if c.Lookup("c1").TLSVersion != 6 {
				t.Errorf("c1 = %+v", c.Lookup("c1"))
			}
		}},
	{id: "config_file_verify_peer_no", ini: "[c1]\nurl = https://127.0.0.1:28085/api\nverify_peer = no\n",
		check: func(t *testing.T, c *Config) {
			if c.Lookup("c1").VerifyPeer != 0 {
				t.Errorf("c1 = %+v", c.Lookup("c1"))
			}
		}},
	{id: "config_file_bad_url", ini: "[c1]\nurl = 127.0.0.1:28080/api\n",
		check: func(t *testing.T, c *Config) {
			cc := c.Lookup("c1") // defined but empty: requests fail with 3 (":///x")
			if cc == nil || cc.Scheme != "" || cc.URL != "" || cc.UserAgent.Set || !cc.FromFile {
				t.Errorf("c1 = %+v", cc)
			}
			if !hasWarning(c, "invalid url") {
				t.Errorf("warnings %q", c.Warnings)
			}
		}},
	{id: "config_file_dup_of_httpcon", modparams: []string{"httpcon = c1=>http://127.0.0.1:28080/from-httpcon"},
		ini: "[c1]\nurl = http://127.0.0.1:28080/from-file\n",
		check: func(t *testing.T, c *Config) {
			if len(c.Connections) != 1 || c.Lookup("c1").URL != "127.0.0.1:28080/from-httpcon" {
				t.Errorf("connections %+v", c.Connections)
			}
			if !hasWarning(c, "duplicate connection name") {
				t.Errorf("warnings %q", c.Warnings)
			}
		}},
	{id: "keep_connections_config_file", ini: "[c1]\nurl = http://127.0.0.1:28080/api\nkeepconnections = 1\n",
		check: func(t *testing.T, c *Config) {
			if c.Lookup("c1").KeepConnections != 1 {
				t.Errorf("c1 = %+v", c.Lookup("c1"))
			}
		}},
	{id: "auth_config_file_url_userinfo", ini: "[c1]\nurl = http://au:ap@127.0.0.1:28080/api\n",
		check: func(t *testing.T, c *Config) {
			if cc := c.Lookup("c1"); cc.URL != "au:ap@127.0.0.1:28080/api" || cc.Username.Set {
				t.Errorf("c1 = %+v", cc)
			}
		}},
	{id: "auth_config_file_username_password", ini: "[c1]\nurl = http://127.0.0.1:28080/api\nusername = au\npassword = ap\nauthmethod = 2\n",
		check: func(t *testing.T, c *Config) {
			if cc := c.Lookup("c1"); cc.Username != Some("au") || cc.Password != Some("ap") || cc.AuthMethod != 2 {
				t.Errorf("c1 = %+v", cc)
			}
		}},
	{id: "useragent_config_file_empty", ini: "[c1]\nurl = http://127.0.0.1:28080/api\nuseragent = \"\"\n",
		check: func(t *testing.T, c *Config) {
			if c.Lookup("c1").UserAgent != Some("") {
				t.Errorf("c1 = %+v", c.Lookup("c1"))
			}
		}},
	{id: "failover_config_file", ini: "[c1]\nurl = http://127.0.0.1:28081/primary\nfailover = c2\n\n[c2]\nurl = http://127.0.0.1:28080/secondary\n",
		check: func(t *testing.T, c *Config) {
			if c.Lookup("c1").Failover != "c2" || c.Lookup("c2") == nil {
				t.Errorf("connections %+v", c.Connections)
			}
		}},
	{id: "https_tlsversion_9_out_of_range", modparams: []string{"cacert = /certs/ca.crt", "tlsversion = 9", "httpcon = c1=>https://127.0.0.1:28082/api"},
		check: func(t *testing.T, c *Config) {
			if c.Lookup("c1").TLSVersion != 9 || c.Defaults.TLSVersion != 0 {
				t.Errorf("c1 = %+v, defaults %+v", c.Lookup("c1"), c.Defaults)
			}
		}},
	{id: "timeout_modparam_after_httpcon", modparams: []string{"httpcon = c1=>http://127.0.0.1:28080/api", "connection_timeout = 1"},
		check: func(t *testing.T, c *Config) {
			if c.Lookup("c1").Timeout != 4 || c.Defaults.ConnectionTimeout != 1 {
				t.Errorf("c1 = %+v", c.Lookup("c1"))
			}
		}},
	{id: "https_verify_peer_modparam_after_httpcon", modparams: []string{"httpcon = c1=>https://127.0.0.1:28085/api", "verify_peer = 0"},
		check: func(t *testing.T, c *Config) {
			if c.Lookup("c1").VerifyPeer != 1 || c.Defaults.VerifyPeer != 0 {
				t.Errorf("c1 = %+v", c.Lookup("c1"))
			}
		}},
	{id: "proxy_connect_no_port_ignored", modparams: []string{"httpproxy = http://127.0.0.1:28080", "httpcon = c1=>http://127.0.0.1:28080/api"},
		check: func(t *testing.T, c *Config) {
			if cc := c.Lookup("c1"); cc.HTTPProxy.Set || cc.HTTPProxyPort != 0 {
				t.Errorf("c1 = %+v", cc)
			}
		}},
}

// TestSettingsOracleConfigScenarios runs the hand-translated oracle scenarios through
// ParseSettings with a real config file: the six config_error ones must fail with a
// clear message, the others must start with the effective values the recorded requests
// show.
func TestSettingsOracleConfigScenarios(t *testing.T) {
	for _, oc := range oracleCases {
		t.Run(oc.id, func(t *testing.T) {
			lines := append([]string(nil), oc.modparams...)
			if oc.ini != "" {
				path := filepath.Join(t.TempDir(), "httpcon.ini")
				if err := os.WriteFile(path, []byte(oc.ini), 0o600); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, "config_file = "+path)
			}
			c, err := ParseSettings(strings.Join(lines, "\n"))
			if oc.wantErr != nil {
				if err == nil {
					t.Fatalf("started; Kamailio 5.6.3 refuses this configuration")
				}
				for _, s := range oc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("refused; Kamailio 5.6.3 starts with it: %v", err)
			}
			if oc.check != nil {
				oc.check(t, c)
			}
		})
	}
}

// TestSettingsOracleAllScenarios replays every scenario of the recorded oracle, when it is
// available: whether ParseSettings accepts the configuration must match whether Kamailio
// 5.6.3 started (status config_error or not). The oracle is shared/oracle beside the
// repository (HC_ORACLE_DIR overrides it).
func TestSettingsOracleAllScenarios(t *testing.T) {
	dir := os.Getenv("HC_ORACLE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "oracle")
	}
	scenData, err := os.ReadFile(filepath.Join(dir, "scenarios.json"))
	if err != nil {
		t.Skipf("oracle not available: %v", err)
	}
	resData, err := os.ReadFile(filepath.Join(dir, "results", "kamailio-5.6.3.json"))
	if err != nil {
		t.Skipf("oracle results not available: %v", err)
	}
	var scen struct {
		Scenarios []struct {
			ID         string              `json:"id"`
			Modparams  [][]json.RawMessage `json:"modparams"`
			ConfigFile *string             `json:"config_file"`
		} `json:"scenarios"`
	}
	var res struct {
		Placeholders map[string]string `json:"placeholders"`
		Results      map[string]struct {
			Status string `json:"status"`
		} `json:"results"`
	}
	if err := json.Unmarshal(scenData, &scen); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(resData, &res); err != nil {
		t.Fatal(err)
	}
	if len(scen.Scenarios) == 0 {
		t.Fatal("no scenarios")
	}
	for _, s := range scen.Scenarios {
		t.Run(s.ID, func(t *testing.T) {
			iniPath := filepath.Join(t.TempDir(), "httpcon.ini")
			expand := func(v string) string {
				for k, x := range res.Placeholders {
					v = strings.ReplaceAll(v, "{{"+k+"}}", x)
				}
				return strings.ReplaceAll(v, "{{CONFIG_FILE}}", iniPath)
			}
			var lines []string
			hasConfigFile := false
			for _, mp := range s.Modparams {
				var name string
				if err := json.Unmarshal(mp[0], &name); err != nil {
					t.Fatal(err)
				}
				var value string
				if err := json.Unmarshal(mp[1], &value); err != nil {
					var n int
					if err := json.Unmarshal(mp[1], &n); err != nil {
						t.Fatalf("modparam %s: %s", name, mp[1])
					}
					value = strconv.Itoa(n)
				}
				hasConfigFile = hasConfigFile || name == "config_file"
				lines = append(lines, name+" = "+expand(value))
			}
			if s.ConfigFile != nil {
				if err := os.WriteFile(iniPath, []byte(expand(*s.ConfigFile)), 0o600); err != nil {
					t.Fatal(err)
				}
				if !hasConfigFile {
					lines = append(lines, "config_file = "+iniPath)
				}
			}
			_, err := ParseSettings(strings.Join(lines, "\n"))
			status := res.Results[s.ID].Status
			if status == "" {
				t.Skip("no recorded result")
			}
			if (status == "config_error") != (err != nil) {
				t.Errorf("Kamailio 5.6.3 status %q, ParseSettings error %v\nsettings:\n%s", status, err, strings.Join(lines, "\n"))
			}
		})
	}
}

// settingsSeeds are settings texts built from the oracle scenarios' modparams.
var settingsSeeds = []string{
	"httpcon = c1=>http://127.0.0.1:28080/api",
	"httpredirect = 1\nhttpcon = c1=>http://127.0.0.1:28080/api",
	"httpcon = c1=>http://127.0.0.1:28080/api\nmaxdatasize = 100",
	"query_result = 0\nquery_maxdatasize = 5\nuseragent = Oracle-UA/1.0\nconnection_timeout = 1\nauthmethod = 2",
	"cacert = /tmp/kam-oracle/certs/ca.crt\nclient_cert = /c.crt\nclient_key = /c.key\nhttpcon = c1=>https://127.0.0.1:28083/api",
	"tlsversion = 9\nhttpcon = c1=>https://127.0.0.1:28082/api",
	"cipher_suites = ECDHE-RSA-AES128-GCM-SHA256\nverify_peer = 0\nverify_host = 0",
	"httpcon = c1=>http://127.0.0.1:28081/primary;failover=c2\nhttpcon = c2=>http://127.0.0.1:28080/secondary",
	"config_file = /f.ini\nuseragent = AfterFile/1.0\nmaxdatasize = 3",
	"keep_connections = 1\nhttpproxy = http://127.0.0.1:28080\nhttpproxyport = 3128\nnetinterface = lo",
	"httpcon = c1=>http://127.0.0.1:28080/one\nhttpcon = c1=>http://127.0.0.1:28080/two",
	"httpcon = c1 = > http://127.0.0.1:28080/api",
	"gomaxprocs = 4\nmemory_limit = 64MiB\nproxy_from_environment = 1\ncrash_log = /tmp/crash\npool = {\"id\": \"p\", \"max_total\": 4}",
	"# comment\r\n\r\nuseragent =\r\n",
}

var iniSeeds = []string{
	"",
	"[c1]\nurl = http://127.0.0.1:28080/api\nhttp_follow_redirect = yes\n",
	"[c1]\nurl = https://127.0.0.1:28086/api\ntlsversion = 6\n",
	"# comment\n[c1]\nurl = http://127.0.0.1:28080/api\ntimeout = 2\nmaxdatasize = 10\n",
	"[c1]\nurl = http://127.0.0.1:28081/primary\nfailover = c2\n\n[c2]\nurl = http://127.0.0.1:28080/secondary\n",
	"[c1]\nurl = 127.0.0.1:28080/api\n",
	"[c1]\nurl = http://au:ap@127.0.0.1:28080/api\nusername = au\npassword = \"p a\\\"ss\"\nuseragent = \"\"\n",
	"[a]\nurl = http://h\n[b]\n[c]\nurl = x\n",
}

func ExampleParseSettings() {
	c, err := ParseSettings(`
# Kamailio's order rule: c1 copies verify_peer = 0, c2 does not see httpredirect = 1.
verify_peer = 0
httpcon = c1=>https://api.example.com/v1;timeout=2
httpcon = c2=>http://user:secret@backend.example.com
httpredirect = 1
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	c1, c2 := c.Lookup("c1"), c.Lookup("c2")
	fmt.Println(c1.Scheme, c1.URL, c1.Timeout, c1.VerifyPeer, c1.HTTPRedirect)
	fmt.Println(c2.Username.Value, c2.URL, c2.HTTPRedirect, c.Defaults.HTTPRedirect)

	_, err = ParseSettings("httpcon = c3 = > http://h")
	fmt.Println(err)
	// Output:
	// https api.example.com/v1 2 0 0
	// user backend.example.com 0 1
	// line 1: httpcon: invalid curl parameter [c3 = > http://h] at [4]: ">" expected right after "=" (no space inside "=>")
}

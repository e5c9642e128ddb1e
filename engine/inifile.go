// This file owns the config_file: the INI file of named connections that Kamailio 5.6.3
// loads in mod_init (curlcon.c:http_client_load_config), read with the lexical rules of
// Kamailio's core/cfg_parser.c and fixed up with the quirks of
// fixup_raw_http_client_conn_list. Spec: kamailio_http_client.md §3.
//
// Why not github.com/go-ini/ini: go-ini was evaluated first, and it cannot be configured
// to these rules. It reports no line or column, so errors could not name the line; ';'
// starts a comment for it (at line start always, inline unless disabled), while for
// Kamailio ';' is an ordinary value character ("url = http://h/a;b" keeps ";b"); it
// accepts ':' as a key delimiter, "-" auto-increment keys, quoted and spaced key names,
// backtick and """ values, Python multi-line values, any section name, and it merges
// repeated sections, which the LIFO quirk below needs to see. Kamailio, on the other hand,
// lets a quoted value span lines and a backslash join lines, which a line-based reader
// cannot represent. Each difference would need its own check over the raw text, i.e. a
// second parser; so the cfg_parser state machine (~150 lines of C) is ported instead, and
// it gives Kamailio's exact acceptance and error positions.
package engine

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

const (
	// iniMaxTokenLen is cfg_parser.h's MAX_TOKEN_LEN: a longer key, section name or value
	// is fatal.
	iniMaxTokenLen = 512
	// iniMaxFileSize bounds what is read; Kamailio has no limit, but a config file this
	// large is a mistake (or /dev/zero), not a configuration.
	iniMaxFileSize = 16 << 20
)

// INIError is a fatal error in the config_file, at a 1-based line and column like
// Kamailio's "file:line:col: message". Line is 0 when the file could not be read.
type INIError struct {
	File      string
	Line, Col int
	Reason    string
}

func (e *INIError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", clipPath(e.File), e.Reason)
	}
	return fmt.Sprintf("%s:%d:%d: %s", clipPath(e.File), e.Line, e.Col, e.Reason)
}

// clipPath keeps the end of a long path, the part that names the file.
func clipPath(p string) string {
	const limit = 64
	if p == "" {
		return `""`
	}
	if len(p) <= limit {
		return clip(p, limit)
	}
	return "..." + clip(p[len(p)-limit:], limit)
}

// readConfigFile opens the path exactly as given: Kamailio passes a zero-length basedir
// to cfg_parser_init, which skips path resolution, so a relative path is relative to the
// working directory.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, iniMaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > iniMaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB", iniMaxFileSize>>20)
	}
	return data, nil
}

// loadConfigFile reads and applies the config_file: its sections become connections
// that copy c.Defaults as they are now (mod_init runs this after the tlsversion check and
// before the connection_timeout 0 -> 4 fixup).
func (c *Config) loadConfigFile(path string, read func(string) ([]byte, error)) error {
	data, err := read(path)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			err = errors.New("no such file")
		case errors.As(err, &pe):
			err = pe.Err
		}
		return &INIError{File: path, Reason: "cannot read the file: " + clip(err.Error(), 80)}
	}
	sections, warnings, err := parseINI(data, path, c.Defaults)
	c.Warnings = append(c.Warnings, warnings...)
	if err != nil {
		return err
	}
	return c.addFileConnections(sections, path)
}

// iniSection is one [name] section with its raw values, before the fixup. It starts as a
// copy of the modparams (curlcon.c:curl_parse_conn).
type iniSection struct {
	name      string
	line, col int

	url, username, password, failover, userAgent   OptString
	clientCert, clientKey, cipherSuites, httpProxy OptString

	httpProxyPort, verifyPeer, verifyHost, tlsVersion, timeout int
	maxDataSize, httpRedirect, authMethod, keepConnections     int
}

func newINISection(name string, line, col int, d Defaults) *iniSection {
	s := &iniSection{
		name: name, line: line, col: col,
		clientCert:      d.ClientCert,
		clientKey:       d.ClientKey,
		cipherSuites:    d.CipherSuites,
		userAgent:       Some(d.UserAgent.Value), // pkg_str_dup: always a string, "" at worst
		verifyPeer:      d.VerifyPeer,
		verifyHost:      d.VerifyHost,
		maxDataSize:     d.MaxDataSize,
		timeout:         d.ConnectionTimeout,
		httpRedirect:    d.HTTPRedirect,
		tlsVersion:      d.TLSVersion,
		authMethod:      d.AuthMethod,
		keepConnections: d.KeepConnections,
	}
	// The modparam proxy is copied only when its port is set (unsigned "> 0").
	if d.HTTPProxyPort != 0 {
		s.httpProxyPort = d.HTTPProxyPort
		s.httpProxy = d.HTTPProxy
	}
	return s
}

// iniKind is how an option's value is parsed (the cfg_parse_*_opt function it uses).
type iniKind int

const (
	iniStr  iniKind = iota // cfg_parse_str_opt: extended token or quoted string
	iniBool                // cfg_parse_bool_opt: cfg_bool_values
	iniInt                 // cfg_parse_int_opt: plain token or quoted string, str2sint
	iniTLS                 // cfg_parse_enum_opt with tls_versions
)

// iniOption finds a key of http_client_options[] (case-insensitive, exact length) and
// returns where its value goes.
func (s *iniSection) iniOption(key string) (iniKind, any, bool) {
	for _, o := range []struct {
		name string
		kind iniKind
		dst  any
	}{
		{"url", iniStr, &s.url},
		{"username", iniStr, &s.username},
		{"password", iniStr, &s.password},
		{"failover", iniStr, &s.failover},
		{"useragent", iniStr, &s.userAgent},
		{"verify_peer", iniBool, &s.verifyPeer},
		{"verify_host", iniBool, &s.verifyHost},
		{"client_cert", iniStr, &s.clientCert},
		{"client_key", iniStr, &s.clientKey},
		{"cipher_suites", iniStr, &s.cipherSuites},
		{"tlsversion", iniTLS, &s.tlsVersion},
		{"timeout", iniInt, &s.timeout},
		{"maxdatasize", iniInt, &s.maxDataSize},
		{"httpredirect", iniBool, &s.httpRedirect},
		{"httpproxy", iniStr, &s.httpProxy},
		{"httpproxyport", iniInt, &s.httpProxyPort},
		{"authmethod", iniInt, &s.authMethod},
		{"keepconnections", iniInt, &s.keepConnections},
	} {
		if asciiEqualFold(key, o.name) {
			return o.kind, o.dst, true
		}
	}
	return 0, nil, false
}

// iniKeyHint names the real key for the ones Kamailio's documentation gets wrong.
func iniKeyHint(key string) string {
	switch {
	case asciiEqualFold(key, "keep_connections"):
		return ` (the key is "keepconnections")`
	case asciiEqualFold(key, "http_follow_redirect"):
		return ` (the key is "httpredirect")`
	case asciiEqualFold(key, "http_proxy"):
		return ` (the key is "httpproxy")`
	case asciiEqualFold(key, "http_proxy_port"):
		return ` (the key is "httpproxyport")`
	}
	return ""
}

// parseINI runs Kamailio's sr_cfg_parse with curl_parse_conn as the section parser over
// data. d are the modparam values each section starts from. Warnings are the non-fatal
// findings (an option whose value is cut off by the end of the file is ignored, as in
// Kamailio).
func parseINI(data []byte, file string, d Defaults) ([]*iniSection, []string, error) {
	l := &cfgLexer{data: data, file: file, line: 1, look: lexEOF}
	var (
		sections []*iniSection
		cur      *iniSection
		warnings []string
	)
	for {
		t, ok, err := l.token(false)
		if err != nil {
			return nil, warnings, err
		}
		if !ok {
			return sections, warnings, nil
		}
		switch t.typ {
		case '\n': // empty line
		case '[':
			s, err := l.section(d)
			if err != nil {
				return nil, warnings, err
			}
			sections = append(sections, s)
			cur = s
		case tokAlpha:
			key := string(t.val)
			if cur == nil {
				return nil, warnings, l.errAt(t.line, t.col, "unsupported option %s: options must follow a [name] section header", quoted(key, 40))
			}
			kind, dst, known := cur.iniOption(key)
			if !known {
				return nil, warnings, l.errAt(t.line, t.col, "unsupported option %s%s", quoted(key, 40), iniKeyHint(key))
			}
			w, err := l.option(key, kind, dst)
			if err != nil {
				return nil, warnings, err
			}
			if w != "" {
				warnings = append(warnings, w)
			}
		default:
			return nil, warnings, l.errAt(t.line, t.col, "syntax error: unexpected %s", tokenText(t))
		}
	}
}

// section parses the rest of a "[name]" line (curl_parse_conn).
func (l *cfgLexer) section(d Defaults) (*iniSection, error) {
	t, ok, err := l.token(false)
	if err != nil {
		return nil, err
	}
	if !ok || t.typ != tokAlpha {
		line, col := l.tokenPos(t, ok)
		return nil, l.errAt(line, col, "invalid or missing connection name after '[' (letters, digits and '_' only)")
	}
	name, line, col := string(t.val), t.line, t.col
	t, ok, err = l.token(false)
	if err != nil {
		return nil, err
	}
	if !ok || t.typ != ']' {
		pl, pc := l.tokenPos(t, ok)
		return nil, l.errAt(pl, pc, "']' expected after section name %s (letters, digits and '_' only)", quoted(name, 40))
	}
	if err := l.eatEOL(); err != nil {
		return nil, err
	}
	return newINISection(name, line, col, d), nil
}

// option parses "= value EOL" for key into dst. It returns a warning when the value is
// missing at the very end of the file: cfg_parse_*_opt log that and go on.
func (l *cfgLexer) option(key string, kind iniKind, dst any) (string, error) {
	qkey := quoted(key, 40)
	t, ok, err := l.token(false)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", l.errAt(l.line, l.col, "option %s: '=' missing", qkey)
	}
	if t.typ != '=' {
		return "", l.errAt(t.line, t.col, "option %s: '=' expected, found %s", qkey, tokenText(t))
	}
	// Strings, booleans and the enum are read as "extended alpha"; integers are not, so
	// an unquoted sign ("-1") is a syntax error and a negative number must be quoted.
	t, ok, err = l.token(kind != iniInt)
	if err != nil {
		return "", err
	}
	if !ok {
		return fmt.Sprintf("config_file %s:%d: option %s: value missing at the end of the file, ignored", clipPath(l.file), l.line, qkey), l.eatEOL()
	}
	if t.typ != tokAlpha && t.typ != tokString {
		if t.typ == '\n' {
			return "", l.errAt(t.line, t.col, "option %s: value missing", qkey)
		}
		return "", l.errAt(t.line, t.col, "option %s: invalid value starting with %s (quote signed numbers: \"-1\")", qkey, tokenText(t))
	}
	val := string(t.val)
	switch kind {
	case iniStr:
		*dst.(*OptString) = Some(val) // "" is an empty string, not "unset"
	case iniInt:
		n, ok := str2sint(val)
		if !ok {
			return "", l.errAt(t.line, t.col, "option %s: invalid integer value %s", qkey, quoted(val, 24))
		}
		*dst.(*int) = n
	case iniBool:
		b, ok := cfgBool(val)
		if !ok {
			return "", l.errAt(t.line, t.col, "option %s: invalid value %s, boolean expected (yes/no, on/off, true/false, 1/0)", qkey, quoted(val, 24))
		}
		*dst.(*int) = b
	case iniTLS:
		v, ok := cfgTLSVersion(val)
		if !ok {
			return "", l.errAt(t.line, t.col, "option %s: unsupported value %s; use DEFAULT, TLSv1, SSLv2, SSLv3, TLSv1.0, TLSv1.1 or TLSv1.2", qkey, quoted(val, 24))
		}
		*dst.(*int) = v
	}
	if err := l.eatEOL(); err != nil && asciiEqualFold(key, "password") {
		// The error would quote the rest of an unquoted password.
		return "", l.errAt(t.line, t.col, "option %s: end of line expected after the value (not shown); quote a password with blanks", qkey)
	} else if err != nil {
		return "", err
	}
	return "", nil
}

// eatEOL is cfg_eat_eol: only blanks and a comment may follow a value; end of file is
// fine.
func (l *cfgLexer) eatEOL() error {
	t, ok, err := l.token(false)
	if err != nil || !ok {
		return err
	}
	if t.typ != '\n' {
		return l.errAt(t.line, t.col, "end of line expected, found %s (unquoted values end at a blank; quote values with spaces)", tokenText(t))
	}
	return nil
}

// cfgBool looks a value up in cfg_parser.c's cfg_bool_values (case-insensitive).
func cfgBool(v string) (int, bool) {
	for _, b := range []struct {
		name string
		val  int
	}{
		{"yes", 1}, {"true", 1}, {"enable", 1}, {"enabled", 1}, {"1", 1}, {"on", 1},
		{"no", 0}, {"false", 0}, {"disable", 0}, {"disabled", 0}, {"0", 0}, {"off", 0},
	} {
		if asciiEqualFold(v, b.name) {
			return b.val, true
		}
	}
	return 0, false
}

// cfgTLSVersion looks a value up in curlcon.c's tls_versions (case-insensitive). There is
// no TLSv1.3 and numbers are not accepted.
func cfgTLSVersion(v string) (int, bool) {
	for i, name := range []string{"DEFAULT", "TLSv1", "SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2"} {
		if asciiEqualFold(v, name) {
			return i, true
		}
	}
	return 0, false
}

// str2sint is Kamailio's core/ut.h str2sint: an optional sign and decimal digits in the
// int range. An empty string (a quoted "") is 0.
func str2sint(s string) (int, bool) {
	i, neg := 0, false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		i++
	}
	var r int64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		r = r*10 + int64(c-'0')
		if (!neg && r > 1<<31-1) || (neg && r > 1<<31) {
			return 0, false
		}
	}
	if neg {
		r = -r
	}
	return int(r), true
}

// asciiEqualFold is strncasecmp with equal lengths: ASCII letters only, unlike
// strings.EqualFold (which would match "ſ" to "s").
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// addFileConnections is fixup_raw_http_client_conn_list: sections are processed from
// the last in the file to the first (Kamailio keeps them in a LIFO list). At the first
// duplicate name or bad url, processing stops and every section above it is dropped; a
// bad-url section has already been created, empty. These errors are not fatal
// (http_client_load_config ignores the fixup's result), so they are warnings. A section
// without url is an error here: Kamailio dereferences NULL on it and crashes at startup.
func (c *Config) addFileConnections(sections []*iniSection, file string) error {
	var created []*Connection // last section first
	taken := make(map[string]bool, len(c.Connections)+len(sections))
	for _, cc := range c.Connections {
		taken[cc.Name] = true
	}
	dropped := func(i int) string {
		if i == 0 {
			return "no other section is affected"
		}
		return fmt.Sprintf("the %d section(s) above it are dropped too (Kamailio processes sections last to first and stops here)", i)
	}
	for i := len(sections) - 1; i >= 0; i-- {
		s := sections[i]
		where := fmt.Sprintf("config_file %s:%d: [%s]", clipPath(file), s.line, clip(s.name, 40))
		if taken[s.name] {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: duplicate connection name, section ignored; %s", where, dropped(i)))
			break
		}
		cc := &Connection{Name: s.name, FromFile: true}
		created = append(created, cc)
		taken[s.name] = true
		if !s.url.Set {
			return &INIError{File: file, Line: s.line, Col: s.col, Reason: fmt.Sprintf("section [%s] has no url (Kamailio 5.6.3 crashes at startup on this)", clip(s.name, 40))}
		}
		scheme, rest, ok := splitFileURL(s.url.Value)
		if !ok {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: invalid url %s (scheme:// and at least one character expected); the connection is defined but empty, every request on it fails with 3; %s",
				where, quoted(s.url.Value, 40), dropped(i)))
			break
		}
		cc.Scheme, cc.URL = scheme, rest // verbatim: userinfo and ;params are not parsed
		cc.Username, cc.Password = s.username, s.password
		cc.AuthMethod = s.authMethod
		cc.Failover = s.failover.Value
		cc.UserAgent = Some(s.userAgent.Value)
		cc.ClientCert, cc.ClientKey, cc.CipherSuites = s.clientCert, s.clientKey, s.cipherSuites
		cc.TLSVersion = s.tlsVersion // the enum and the (already checked) default are in range
		cc.HTTPProxyPort = s.httpProxyPort
		if s.httpProxyPort != 0 && s.httpProxy.Set { // an unsigned "> 0" in curl_con_t
			cc.HTTPProxy = s.httpProxy
		}
		cc.VerifyPeer, cc.VerifyHost = s.verifyPeer, s.verifyHost
		cc.Timeout, cc.MaxDataSize = s.timeout, s.maxDataSize
		cc.HTTPRedirect, cc.KeepConnections = s.httpRedirect, s.keepConnections
	}
	// Back to file order, which is also Kamailio's listing order for these.
	for i := len(created) - 1; i >= 0; i-- {
		c.Connections = append(c.Connections, created[i])
	}
	return nil
}

// splitFileURL is the url check of fixup_raw_http_client_conn_list: the scheme runs to
// the first ':', which must be followed by "//" and at least one more character.
func splitFileURL(u string) (scheme, rest string, ok bool) {
	k := 0
	for k < len(u) && u[k] != ':' && u[k] != 0 {
		k++
	}
	if len(u)-k < 4 || u[k] != ':' || u[k+1] != '/' || u[k+2] != '/' {
		return "", "", false
	}
	return u[:k], u[k+3:], true
}

// The lexer: a port of core/cfg_parser.c:cfg_get_token.

const (
	lexEOF    = -1
	tokAlpha  = -2 // CFG_TOKEN_ALPHA
	tokString = -3 // CFG_TOKEN_STRING
)

type cfgToken struct {
	typ       int // tokAlpha, tokString, or the character of a one-character token
	val       []byte
	line, col int // where the token starts
}

type cfgLexer struct {
	data      []byte
	pos       int
	file      string
	line, col int
	look      int // a character read ahead, or lexEOF

	eolLine, eolCol int // where the last newline was, to report an end-of-line token there
}

func (l *cfgLexer) errAt(line, col int, format string, args ...any) error {
	return &INIError{File: l.file, Line: line, Col: col, Reason: fmt.Sprintf(format, args...)}
}

// tokenPos is where to report a problem with t, or the current position at end of file.
func (l *cfgLexer) tokenPos(t cfgToken, ok bool) (int, int) {
	if !ok || t.line == 0 {
		return l.line, l.col
	}
	return t.line, t.col
}

// read is READ_CHAR: lines count from 1, columns from 1 (0 after a newline). The end of
// the file is one column past the last character.
func (l *cfgLexer) read() int {
	if l.pos >= len(l.data) {
		if l.pos == len(l.data) {
			l.pos++
			l.col++
		}
		return lexEOF
	}
	c := int(l.data[l.pos])
	l.pos++
	if c == '\n' {
		l.eolLine, l.eolCol = l.line, l.col+1
		l.line++
		l.col = 0
	} else {
		l.col++
	}
	return c
}

func isCfgAlpha(c int) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isCfgDelim(c int) bool {
	switch c {
	case '=', ':', ';', '.', ',', '?', '[', ']', '/', '@', '!', '$', '%', '&', '*', '(', ')', '-', '+', '|', '\'':
		return true
	}
	return false
}

func isCfgSpace(c int) bool { return c == ' ' || c == '\t' || c == '\r' }

type lexState int

const (
	stStart          lexState = iota // ST_S
	stAlpha                          // ST_A
	stAlphaEscaped                   // ST_AE
	stQuoted                         // ST_Q
	stQuotedEscaped                  // ST_QE
	stComment                        // ST_C
	stCommentEscaped                 // ST_CE
	stEscaped                        // ST_E
)

// token returns the next token; ok is false at the end of the file. extended is
// CFG_EXTENDED_ALPHA: the delimiters and backslash may then start and continue a word.
func (l *cfgLexer) token(extended bool) (t cfgToken, ok bool, err error) {
	state := stStart
	push := func(c byte) error {
		if len(t.val) >= iniMaxTokenLen {
			return l.errAt(l.line, l.col, "token longer than %d bytes", iniMaxTokenLen)
		}
		if len(t.val) == 0 {
			t.line, t.col = l.line, l.col
		}
		t.val = append(t.val, c)
		return nil
	}
	invalid := func(c int) error {
		return l.errAt(l.line, l.col, "invalid character %s (quote the value to use it)", quoteByte(byte(c)))
	}
	badEscape := func(c int) error {
		return l.errAt(l.line, l.col, "unsupported escape character %s", quoteByte(byte(c)))
	}
	done := func(typ int) (cfgToken, bool, error) {
		t.typ = typ
		return t, true, nil
	}

	c := l.look
	if c != lexEOF {
		l.look = lexEOF
	} else {
		c = l.read()
	}
	for c != lexEOF {
		switch state {
		case stStart:
			switch {
			case isCfgSpace(c):
			case isCfgAlpha(c) || extended && (c == '\\' || isCfgDelim(c)):
				if err := push(byte(c)); err != nil {
					return t, false, err
				}
				state = stAlpha
			case c == '"':
				t.line, t.col = l.line, l.col+1 // for an empty string; push sets it otherwise
				state = stQuoted
			case c == '#':
				state = stComment
			case !extended && c == '\\':
				state = stEscaped
			case c == '\n' || !extended && isCfgDelim(c):
				if err := push(byte(c)); err != nil {
					return t, false, err
				}
				if c == '\n' {
					t.line, t.col = l.eolLine, l.eolCol // the end of the line, not the next one
				}
				return done(c)
			default:
				return t, false, invalid(c)
			}
		case stAlpha:
			switch {
			case isCfgAlpha(c) || extended && (isCfgDelim(c) || c == '"'):
				if err := push(byte(c)); err != nil {
					return t, false, err
				}
			case c == '\\':
				state = stAlphaEscaped
			case c == '#' || c == '\n' || isCfgSpace(c) || !extended && (isCfgDelim(c) || c == '"'):
				l.look = c
				return done(tokAlpha)
			default:
				return t, false, invalid(c)
			}
		case stAlphaEscaped:
			switch c {
			case '#', '"', '\\':
				err = push(byte(c))
			case 'r':
				err = push('\r')
			case 'n':
				err = push('\n')
			case 't':
				err = push('\t')
			case ' ':
				err = push(' ')
			case '\n': // an escaped newline joins the lines
			default:
				err = badEscape(c)
			}
			if err != nil {
				return t, false, err
			}
			state = stAlpha
		case stQuoted:
			switch c {
			case '"':
				return done(tokString)
			case '\\':
				state = stQuotedEscaped
			case 0:
				// Kamailio keeps the NUL, and C then cuts the value there; refuse it.
				return t, false, l.errAt(l.line, l.col, "NUL byte in a quoted value")
			default:
				if err := push(byte(c)); err != nil {
					return t, false, err
				}
			}
		case stQuotedEscaped:
			switch c {
			case '\\', '"':
				err = push(byte(c))
			case 'n':
				err = push('\n')
			case 'r':
				err = push('\r')
			case 't':
				err = push('\t')
			case '\n':
			default:
				err = badEscape(c)
			}
			if err != nil {
				return t, false, err
			}
			state = stQuoted
		case stComment:
			switch c {
			case '\\':
				state = stCommentEscaped
			case '\n':
				state = stStart
				continue // the newline itself is the next token
			}
		case stCommentEscaped:
			state = stComment
		case stEscaped:
			var ch byte
			switch c {
			case '#', '"', '\\':
				ch = byte(c)
			case 'r':
				ch = '\r'
			case 'n':
				ch = '\n'
			case 't':
				ch = '\t'
			case ' ':
				ch = ' '
			case '\n': // an escaped newline is no newline
				state = stStart
			default:
				return t, false, badEscape(c)
			}
			if state == stEscaped {
				if err := push(ch); err != nil {
					return t, false, err
				}
				return done(int(ch))
			}
		}
		c = l.read()
	}

	switch state {
	case stAlpha:
		return done(tokAlpha)
	case stQuoted:
		return t, false, l.errAt(l.line, l.col, "end of file inside a quoted value (missing closing '\"')")
	case stQuotedEscaped, stEscaped, stAlphaEscaped:
		return t, false, l.errAt(l.line, l.col, "end of file after a backslash (missing escaped character)")
	}
	return t, false, nil // stStart, stComment, stCommentEscaped: no more tokens
}

// tokenText describes a token for an error message.
func tokenText(t cfgToken) string {
	switch t.typ {
	case tokAlpha, tokString:
		return quoted(string(t.val), 40)
	case '\n':
		return "end of line"
	}
	return quoteByte(byte(t.typ))
}

// This file owns the httpcon grammar: one "name => scheme://[user[:pass]@]url[;params]"
// value turned into a Connection, exactly as Kamailio 5.6.3's curlcon.c:curl_parse_param
// and core/parser/parse_param.c:parse_params read it, quirks included (the first '@'
// anywhere is the end of the userinfo, ',' and '>' end the parameter list silently, the
// first of a duplicated parameter wins, bad numbers fall back to the snapshot with a
// warning). Spec: kamailio_http_client.md §2.

package engine

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// HTTPConError is a grammar error in an httpcon value. Pos is the byte offset Kamailio
// reports in its "invalid curl parameter [...] at [pos]" message, so the two can be
// compared; Reason says what was expected there.
type HTTPConError struct {
	Value  string
	Pos    int
	Reason string
}

func (e *HTTPConError) Error() string {
	// The value may carry a password: it is masked (Kamailio prints it).
	return fmt.Sprintf("invalid curl parameter [%s] at [%d]: %s", clip(maskUserinfo(e.Value), 64), e.Pos, e.Reason)
}

// ParseHTTPCon parses one httpcon value. d holds the modparam values as they are at this
// point of the settings (the order rule): the connection copies them, and the ;params
// override some. The returned warnings are the non-fatal findings Kamailio logs and goes
// on with (unknown parameter, bad number). Duplicate names are the caller's business:
// they need the other connections.
func ParseHTTPCon(val string, d Defaults) (*Connection, []string, error) {
	if i := strings.IndexByte(val, 0); i >= 0 {
		// Kamailio gets the value as a C string and cannot see past a NUL; refuse rather
		// than silently drop the rest.
		return nil, nil, &HTTPConError{Value: val, Pos: i, Reason: "NUL byte in value"}
	}
	n := len(val)
	// at returns the byte at i, or 0 past the end: C reads the terminating NUL there.
	at := func(i int) byte {
		if i < n {
			return val[i]
		}
		return 0
	}
	fail := func(pos int, reason string) (*Connection, []string, error) {
		return nil, nil, &HTTPConError{Value: val, Pos: pos, Reason: reason}
	}

	p := skipConSpace(val, 0)
	if p >= n {
		return fail(p, "connection name expected")
	}
	nameStart := p
	for p < n && !isConSpace(val[p]) && val[p] != '=' {
		p++
	}
	if p >= n {
		return fail(p, `"=>" expected after the connection name`)
	}
	name := val[nameStart:p]
	if val[p] != '=' {
		p = skipConSpace(val, p)
		if p >= n || val[p] != '=' {
			return fail(p, `"=>" expected after the connection name`)
		}
	}
	p++
	if at(p) != '>' {
		return fail(p, `">" expected right after "=" (no space inside "=>")`)
	}
	p = skipConSpace(val, p+1)

	schemeStart := p
	for p < n && val[p] != ':' {
		p++
	}
	if at(p) != ':' {
		return fail(p, `"scheme://" expected after "=>"`)
	}
	scheme := val[schemeStart:p]
	p++
	if at(p) != '/' {
		return fail(p, `"//" expected after "`+clip(scheme, 16)+`:"`)
	}
	p++
	if at(p) != '/' {
		return fail(p, `"//" expected after "`+clip(scheme, 16)+`:"`)
	}
	p++

	c := &Connection{Name: name, Scheme: scheme}
	rest := val[p:]
	restStart := p

	// The first '@' anywhere after "//" ends the userinfo, even one in the path or in the
	// params (curl_parse_param scans the whole remaining string).
	if atSign := strings.IndexByte(rest, '@'); atSign >= 0 {
		userinfo := rest[:atSign]
		if user, pass, ok := strings.Cut(userinfo, ":"); ok {
			c.Username, c.Password = Some(user), Some(pass)
		} else {
			c.Username = Some(userinfo)
		}
		rest = rest[atSign+1:]
		restStart += atSign + 1
	}

	params := ""
	hasParams := false
	if semi := strings.IndexByte(rest, ';'); semi >= 0 {
		c.URL = rest[:semi]
		params = rest[semi+1:]
		hasParams = true
	} else {
		c.URL = rest
	}

	// Snapshot of the modparams as set so far. str2int results are unsigned in Kamailio;
	// keep the modparam values as given.
	c.UserAgent = Some(d.UserAgent.Value) // as_asciiz: always a string, "" at worst
	c.ClientCert = d.ClientCert
	c.ClientKey = d.ClientKey
	c.CipherSuites = d.CipherSuites
	c.Timeout = d.ConnectionTimeout
	c.MaxDataSize = d.MaxDataSize
	c.HTTPRedirect = d.HTTPRedirect
	c.VerifyPeer = d.VerifyPeer
	c.VerifyHost = d.VerifyHost
	c.TLSVersion = d.TLSVersion
	c.AuthMethod = d.AuthMethod
	c.KeepConnections = d.KeepConnections
	// Kamailio's default_http_proxy_port is unsigned: "> 0" means "not 0".
	if d.HTTPProxyPort != 0 {
		c.HTTPProxyPort = d.HTTPProxyPort
		c.HTTPProxy = d.HTTPProxy
	}

	if !hasParams {
		return c, nil, nil
	}
	paramsPos := restStart + len(c.URL) + 1
	list, perr := parseConParams(params)
	if perr != nil {
		return fail(paramsPos, fmt.Sprintf("in the parameters at [%d]: %s", paramsPos+perr.pos, perr.reason))
	}
	warnings := applyConParams(c, d, list)
	return c, warnings, nil
}

// conParam is one ;name=body of an httpcon. hasBody is false for a bare "name" (C's
// body.s == NULL), which str2int refuses and which unsets the string params.
type conParam struct {
	name    string
	body    string
	hasBody bool
}

type conParamError struct {
	pos    int // offset inside the parameter string
	reason string
}

// parseConParams ports parse_params(..., CLASS_ANY, ...) with separator ';'. The result
// is in Kamailio's list order, which is the reverse of the text: parse_params prepends.
func parseConParams(s string) ([]conParam, *conParamError) {
	if s == "" {
		// "name=>http://h/x;" ends with an empty parameter list: accepted.
		return nil, nil
	}
	var list []conParam
	i := 0
	n := len(s)
	trim := func() {
		for i < n && isConSpace(s[i]) {
			i++
		}
	}
	for {
		var t conParam
		start := i
		for i < n && !isConSpace(s[i]) && s[i] != ',' && s[i] != '=' && s[i] != ';' {
			i++
		}
		t.name = s[start:i]
		trim()
		if i == n { // last parameter, without a body
			list = append(list, t)
			break
		}
		if s[i] == '=' {
			i++
			trim()
			switch {
			case i == n:
				// "Be forgiving": a missing value at the very end is an empty body.
				t.hasBody = true
			case s[i] == '"' || s[i] == '\'':
				q := s[i]
				if n-i < 2 {
					return nil, &conParamError{i, "unterminated quoted value"}
				}
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					return nil, &conParamError{i, "unterminated quoted value"}
				}
				t.body, t.hasBody = s[i+1:i+1+end], true
				i += end + 2
			default:
				bs := i
				for i < n && !isConSpace(s[i]) && s[i] != ',' && s[i] != ';' {
					i++
				}
				if i == bs {
					return nil, &conParamError{i, "value expected after " + quoted(t.name, 24) + "="}
				}
				t.body, t.hasBody = s[bs:i], true
			}
			trim()
			if i == n {
				list = append(list, t)
				break
			}
		}
		// ',' (header parameters) and '>' (URI parameters) end the list silently.
		if s[i] == ',' || s[i] == '>' {
			list = append(list, t)
			break
		}
		if s[i] != ';' {
			return nil, &conParamError{i, fmt.Sprintf("invalid character %s, ';' expected", quoteByte(s[i]))}
		}
		i++
		trim()
		if i == n {
			return nil, &conParamError{i, "parameter name missing after ';'"}
		}
		list = append(list, t)
	}
	// Prepend order: the first occurrence of a duplicated parameter is applied last.
	for l, r := 0, len(list)-1; l < r; l, r = l+1, r-1 {
		list[l], list[r] = list[r], list[l]
	}
	return list, nil
}

// applyConParams applies the parameters in Kamailio's (reversed) order and returns the
// warnings. A bad value falls back to the modparam snapshot, as curl_parse_param does.
func applyConParams(c *Connection, d Defaults, list []conParam) []string {
	var warnings []string
	warn := func(format string, args ...any) {
		warnings = append(warnings, fmt.Sprintf("httpcon %s: ", clip(c.Name, 32))+fmt.Sprintf(format, args...))
	}
	// number parses an unsigned value; on failure it warns and returns the snapshot.
	number := func(p conParam, def int) int64 {
		v, ok := str2int(p.body, p.hasBody)
		if !ok {
			warn("%s: bad value %s, using %d", p.name, quoteBody(p), def)
			return int64(def)
		}
		return int64(v)
	}
	for _, p := range list {
		switch p.name {
		case "httpredirect":
			v := number(p, d.HTTPRedirect)
			if uint32(v) != 0 && uint32(v) != 1 {
				warn("httpredirect: %d is not 0 or 1, using %d", v, d.HTTPRedirect)
				v = int64(d.HTTPRedirect)
			}
			c.HTTPRedirect = int(int32(v)) // an int field in curl_con_t
		case "timeout":
			v := number(p, d.ConnectionTimeout)
			c.Timeout = int(int32(v)) // an int field in curl_con_t: > 2^31-1 wraps negative
		case "maxdatasize":
			v := number(p, d.MaxDataSize)
			c.MaxDataSize = int(v)
		case "verify_peer":
			v := number(p, d.VerifyPeer)
			if uint32(v) != 0 && uint32(v) != 1 {
				warn("verify_peer: %d is not 0 or 1, using %d", v, d.VerifyPeer)
				v = int64(d.VerifyPeer)
			}
			c.VerifyPeer = int(v)
		case "verify_host":
			v := number(p, d.VerifyHost)
			c.VerifyHost = int(v)
		case "tlsversion":
			v := number(p, d.TLSVersion)
			if uint32(v) >= SSLVersionLast {
				warn("tlsversion: %d is not below %d, using %d", v, SSLVersionLast, d.TLSVersion)
				v = int64(d.TLSVersion)
			}
			c.TLSVersion = int(v)
		case "useragent":
			c.UserAgent = Some(p.body) // a bare "useragent" gives "" (as_asciiz of NULL,0)
		case "failover":
			c.Failover = p.body
		case "client_cert":
			c.ClientCert = optBody(p)
		case "client_key":
			c.ClientKey = optBody(p)
		case "cipher_suites":
			c.CipherSuites = optBody(p)
		default:
			warn("unknown parameter %s ignored", quoted(p.name, 32))
		}
	}
	return warnings
}

// optBody is a string param as curl_parse_param stores it: a bare name (no '=') is
// NULL, i.e. unset, even if the modparam was set.
func optBody(p conParam) OptString {
	if !p.hasBody {
		return OptString{}
	}
	return Some(p.body)
}

// str2int is Kamailio's core/ut.h str2int: unsigned decimal, an optional leading '+',
// no other sign, no spaces; overflow past 2^32-1 fails. An empty (but present) string is
// 0; an absent one (C's NULL) fails.
func str2int(s string, present bool) (uint32, bool) {
	if !present {
		return 0, false
	}
	i := 0
	if s != "" && s[0] == '+' {
		i++
	}
	var r uint32
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint32(c - '0')
		if r > math.MaxUint32/10 || (r == math.MaxUint32/10 && d > math.MaxUint32%10) {
			return 0, false
		}
		r = r*10 + d
	}
	return r, true
}

// isConSpace is the whitespace both curl_parse_param and parse_params skip.
func isConSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipConSpace(s string, i int) int {
	for i < len(s) && isConSpace(s[i]) {
		i++
	}
	return i
}

func quoteBody(p conParam) string {
	if !p.hasBody {
		return "(none)"
	}
	return quoted(p.body, 32)
}

func quoteByte(b byte) string {
	if b >= 0x20 && b < 0x7f {
		return "'" + string(rune(b)) + "'"
	}
	return fmt.Sprintf("0x%02x", b)
}

// clip makes a user-supplied string safe and short for an error message: control
// characters and invalid UTF-8 escaped, at most limit bytes of output, "..." when cut.
// Error texts must fit hc_init's 256-byte error buffer.
func clip(s string, limit int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		piece := s[i : i+size]
		switch {
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r >= 0x80 && r < 0xa0:
			piece = fmt.Sprintf(`\u%04x`, r)
		}
		if b.Len()+len(piece) > limit {
			b.WriteString("...")
			break
		}
		b.WriteString(piece)
		i += size
	}
	return b.String()
}

// quoted is clip inside double quotes (not strconv.Quote, which would escape clip's
// escapes a second time).
func quoted(s string, limit int) string { return `"` + clip(s, limit) + `"` }

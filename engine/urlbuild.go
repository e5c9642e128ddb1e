// This file owns URL handling: Kamailio's URL building for named connections (base +
// appended part with its slash rule) and the part of libcurl 7.88's URL parser that decides
// what goes on the wire: junk rejection, scheme guessing and checking, userinfo, host and
// port validation, dot-segment removal, fragment removal, percent-encoding of non-ASCII
// path bytes, and relative redirect resolution.

package engine

import (
	"net"
	"strconv"
	"strings"
)

// buildConnURL is curl_con_query_url_f's URL building: "<schema>://<base>", then a "/" only
// when the appended part does not start with one, then the appended part. An empty
// appended part leaves the base verbatim. Nothing is de-duplicated or escaped.
func buildConnURL(c *Connection, appended string) string {
	var b strings.Builder
	b.Grow(len(c.Scheme) + 3 + len(c.URL) + 1 + len(appended))
	b.WriteString(c.Scheme)
	b.WriteString("://")
	b.WriteString(c.URL)
	if appended != "" {
		if appended[0] != '/' {
			b.WriteByte('/')
		}
		b.WriteString(appended)
	}
	return b.String()
}

// reqURL is a URL as libcurl 7.88 would use it for one request.
type reqURL struct {
	scheme   string // "http" or "https" (lowercased)
	host     string // host as written; IPv6 literals keep their brackets
	hostname string // host for dialling (no brackets)
	port     int
	explPort bool // the URL carried a port

	path     string // dot segments removed, non-ASCII bytes percent-encoded; starts with "/"
	query    string
	hasQuery bool
	fragment string
	hasFrag  bool

	user, pass       string // percent-decoded
	hasUser, hasPass bool

	// Made once by parseCurlURL, since a request needs each at least once and the same
	// parsed URL may serve many requests (connTarget).
	origin    string // originKey
	hostPortS string // hostPort
	str       string // String
}

func defaultPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}

// hostPort is the "host[:port]" for the Host header and CONNECT: the port is omitted when
// it is the scheme's default (curl's rule, whether or not the URL spelled it).
func (u *reqURL) hostPort() string { return u.hostPortS }

// keys makes the origin key and the Host value. Where the normalised URL spells them out
// ("http://10.0.0.1:8080/x" holds "http://10.0.0.1:8080" and "10.0.0.1:8080": an explicit
// port, no credentials, no brackets, no upper case), they are slices of it, and a URL
// parsed for every background request costs one string instead of three.
func (u *reqURL) keys() (origin, hostPort string) {
	var buf [8]byte
	port := strconv.AppendInt(buf[:0], int64(u.port), 10)
	authority := len(u.scheme) + len("://") + len(u.host) + len(":") + len(port)
	spelled := u.explPort && !u.hasUser && u.host == u.hostname && strings.ToLower(u.host) == u.host &&
		len(u.str) >= authority
	if spelled {
		origin = u.str[:authority]
	} else {
		origin = u.scheme + "://" + strings.ToLower(u.hostname) + ":" + string(port)
	}
	switch {
	case u.port == defaultPort(u.scheme):
		hostPort = u.host
	case spelled:
		hostPort = origin[len(u.scheme)+len("://"):]
	default:
		hostPort = u.host + ":" + string(port)
	}
	return origin, hostPort
}

// dialAddr is the address to connect to.
func (u *reqURL) dialAddr() string {
	return net.JoinHostPort(u.hostname, strconv.Itoa(u.port))
}

// target is the origin-form request target: path plus "?query".
func (u *reqURL) target() string {
	if !u.hasQuery {
		return u.path
	}
	return u.path + "?" + u.query
}

// originKey identifies the server a connection talks to (scheme, host, port).
func (u *reqURL) originKey() string {
	return u.origin
}

// String is curl's normalised URL (CURLINFO_EFFECTIVE_URL): lowercase scheme, userinfo as
// given, the port only if one was written, the path after dot removal, query and fragment.
func (u *reqURL) String() string { return u.str }

// redacted is String without the password, for log/error messages.
func (u *reqURL) redacted() string {
	return u.format(false)
}

func (u *reqURL) format(withPass bool) string {
	var b strings.Builder
	b.Grow(len(u.scheme) + len("://") + len(u.user) + len(u.pass) + len(":@") + len(u.host) + len(":65535") +
		len(u.path) + 1 + len(u.query) + 1 + len(u.fragment)) // enough, unless userinfo is encoded
	b.WriteString(u.scheme)
	b.WriteString("://")
	if u.hasUser {
		b.WriteString(encodeUserinfo(u.user))
		if u.hasPass {
			if withPass {
				b.WriteByte(':')
				b.WriteString(encodeUserinfo(u.pass))
			} else {
				b.WriteString(":***")
			}
		}
		b.WriteByte('@')
	}
	b.WriteString(u.host)
	if u.explPort {
		var port [8]byte
		b.WriteByte(':')
		b.Write(strconv.AppendInt(port[:0], int64(u.port), 10))
	}
	b.WriteString(u.path)
	if u.hasQuery {
		b.WriteByte('?')
		b.WriteString(u.query)
	}
	if u.hasFrag {
		b.WriteByte('#')
		b.WriteString(u.fragment)
	}
	return b.String()
}

// escapedInUserinfo reports whether c cannot appear raw in userinfo ('?' and '#' too:
// raw, they would end the authority, and a redirect resolved against the URL would go to
// a host named after the user).
func escapedInUserinfo(c byte) bool {
	return c == '@' || c == ':' || c == '/' || c == '?' || c == '#' || c == '%' || c <= ' ' || c >= 0x7f
}

// encodeUserinfo re-encodes the characters that cannot appear raw in userinfo.
func encodeUserinfo(s string) string {
	const hexd = "0123456789ABCDEF"
	need := false
	for i := 0; i < len(s); i++ {
		if escapedInUserinfo(s[i]) {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if escapedInUserinfo(c) {
			b.WriteByte('%')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// redactURL removes a password from a URL string for messages, without parsing it the
// curl way (it may be malformed): the userinfo of the authority, then any other
// candidate maskUserinfo finds (e.g. after extra slashes, "http:////u:p@h").
func redactURL(s string) string {
	return maskUserinfo(redactAuthority(s))
}

func redactAuthority(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		return s
	}
	userinfo := rest[:at]
	if c := strings.IndexByte(userinfo, ':'); c >= 0 {
		userinfo = userinfo[:c] + ":***"
	}
	return s[:i+3] + userinfo + rest[at:]
}

// parseOptions selects curl's flags for the two ways a URL enters a transfer.
type parseOptions struct {
	// redirect: the URL came from a Location header. curl then allows spaces and
	// percent-encodes them (and non-ASCII bytes) in path and query (CURLU_URLENCODE|
	// CURLU_ALLOW_SPACE).
	redirect bool
}

// parseCurlURL parses s like curl 7.88 (CURLU_GUESS_SCHEME|CURLU_NON_SUPPORT_SCHEME) and
// returns the curl error code on failure: 3 for a malformed URL, 1 for a scheme other
// than http/https.
func parseCurlURL(s string, opt parseOptions) (*reqURL, *curlError) {
	u := new(reqURL)
	if err := u.parse(s, opt); err != nil {
		return nil, err
	}
	return u, nil
}

// parse is parseCurlURL into u, which holds a partial result on failure. It lets a
// background request keep its URL inside its own allocation (recycle.go).
func (u *reqURL) parse(s string, opt parseOptions) *curlError {
	*u = reqURL{}
	if s == "" {
		return newCurlError(curlURLMalformat, "no URL set")
	}
	// junkscan: control characters (and, unless allowed, spaces) anywhere are fatal.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || (c == ' ' && !opt.redirect) {
			// The URL is quoted clipped (control bytes escaped): a message stays short.
			return newCurlError(curlURLMalformat, "malformed URL: "+quoted(redactURL(s), 128))
		}
	}
	if opt.redirect {
		s = encodeRedirectURL(s)
	}
	rest := s
	if n := schemeLen(s); n > 0 {
		u.scheme = strings.ToLower(s[:n])
		rest = s[n+1:]
		// one to three slashes separate scheme and authority
		i := 0
		for i < len(rest) && rest[i] == '/' {
			i++
		}
		if i < 1 || i > 3 {
			return newCurlError(curlURLMalformat, "bad slashes in URL: "+quoted(redactURL(s), 128))
		}
		rest = rest[i:]
	} else {
		u.scheme = guessScheme(s)
	}
	if u.scheme != "http" && u.scheme != "https" {
		return newCurlError(curlUnsupportedProto, "protocol \""+u.scheme+"\" not supported")
	}

	// authority
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	auth, tail := rest[:end], rest[end:]
	if at := strings.IndexByte(auth, '@'); at >= 0 {
		login := auth[:at]
		auth = auth[at+1:]
		user, pass, hasPass := strings.Cut(login, ":")
		var ok bool
		if u.user, ok = percentDecode(user); !ok {
			return newCurlError(curlURLMalformat, "bad user name in URL")
		}
		u.hasUser = true
		if hasPass {
			if u.pass, ok = percentDecode(pass); !ok {
				return newCurlError(curlURLMalformat, "bad password in URL")
			}
			u.hasPass = true
		}
	}
	if err := u.parseHostPort(auth); err != nil {
		return err
	}

	// path, query, fragment
	path := tail
	if i := strings.IndexByte(path, '#'); i >= 0 {
		u.fragment, u.hasFrag = path[i+1:], true
		path = path[:i]
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		u.query, u.hasQuery = path[i+1:], true
		path = path[:i]
	}
	if path == "" {
		path = "/"
	}
	u.path = encodeNonASCII(removeDotSegments(path))
	u.str = u.format(true)
	u.origin, u.hostPortS = u.keys()
	return nil
}

// schemeLen returns the length of a scheme followed by ":/" at the start of s (curl's
// Curl_is_absolute_url with guessing on), or 0.
func schemeLen(s string) int {
	if s == "" || !isAlpha(s[0]) {
		return 0
	}
	i := 1
	for i < len(s) && i < 40 && (isAlpha(s[i]) || isDigit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.') {
		i++
	}
	if i+1 < len(s) && s[i] == ':' && s[i+1] == '/' {
		return i
	}
	return 0
}

// guessScheme is curl's scheme guess for a URL written without one.
func guessScheme(s string) string {
	lower := strings.ToLower(s)
	for _, p := range []string{"ftp.", "dict.", "ldap.", "imap.", "smtp.", "pop3."} {
		if strings.HasPrefix(lower, p) {
			return p[:len(p)-1]
		}
	}
	return "http"
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseHostPort validates the host part like curl 7.88's hostname_check and port parsing.
func (u *reqURL) parseHostPort(auth string) *curlError {
	bad := func(what string) *curlError {
		return newCurlError(curlURLMalformat, what)
	}
	host, port := auth, ""
	if strings.HasPrefix(auth, "[") {
		end := strings.IndexByte(auth, ']')
		if end < 0 {
			return bad("bad IPv6 address in URL")
		}
		host = auth[:end+1]
		after := auth[end+1:]
		if after != "" {
			if after[0] != ':' {
				return bad("bad port number in URL")
			}
			port = after[1:]
		}
		inner := host[1 : len(host)-1]
		zone := ""
		if i := strings.IndexByte(inner, '%'); i >= 0 {
			inner, zone = inner[:i], inner[i+1:]
			zone = strings.TrimPrefix(zone, "25")
		}
		if net.ParseIP(inner) == nil || strings.IndexByte(inner, ':') < 0 {
			return bad("bad IPv6 address in URL")
		}
		u.hostname = inner
		if zone != "" {
			u.hostname = inner + "%" + zone
		}
	} else {
		if i := strings.LastIndexByte(auth, ':'); i >= 0 {
			host, port = auth[:i], auth[i+1:]
		}
		if host == "" {
			return bad("no host part in the URL")
		}
		if badHostChars.in(host) {
			return bad("bad hostname in URL")
		}
		u.hostname = host
	}
	u.host = host
	u.port = defaultPort(u.scheme)
	if port != "" {
		n := 0
		for i := 0; i < len(port); i++ {
			if !isDigit(port[i]) {
				return bad("bad port number in URL")
			}
			n = n*10 + int(port[i]-'0')
			if n > 0xffff {
				return bad("port number too large in URL")
			}
		}
		u.port, u.explPort = n, true
	}
	return nil
}

// percentDecode decodes %XX sequences; a malformed sequence is left as it is (curl does the
// same) and a decoded NUL is rejected.
func percentDecode(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c := unhex(s[i+1])<<4 | unhex(s[i+2])
			if c == 0 {
				return "", false
			}
			b = append(b, c)
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b), true
}

func isHex(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
func unhex(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// encodeNonASCII percent-encodes bytes >= 0x80 with lowercase hex, as curl 7.88's
// urlencode_str (used for the path, CURLU_URLENCODE) does: "é" becomes "%c3%a9". Every
// ASCII character, including <>"|, is left raw.
func encodeNonASCII(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexd = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			b = append(b, '%', hexd[c>>4], hexd[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// encodeRedirectURL applies curl's urlencode_str to a Location URL: spaces become %20
// before the '?' and '+' after it; non-ASCII bytes become lowercase %xx. Like curl, it
// encodes only what follows the authority: an encoded host (an IPv6 zone, a non-ASCII
// name) would be another host.
func encodeRedirectURL(s string) string {
	if n := schemeLen(s); n > 0 {
		rest := s[n+1:]
		i := 0
		for i < len(rest) && rest[i] == '/' {
			i++
		}
		end := strings.IndexAny(rest[i:], "/?#")
		if end < 0 {
			return s // an authority alone: nothing to encode
		}
		head := n + 1 + i + end
		return s[:head] + encodeRedirectURL(s[head:])
	}
	need := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] >= 0x80 {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	const hexd = "0123456789abcdef"
	b := make([]byte, 0, len(s)+16)
	inQuery := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '?':
			inQuery = true
			b = append(b, c)
		case c == ' ' && inQuery:
			b = append(b, '+')
		case c == ' ':
			b = append(b, "%20"...)
		case c >= 0x80:
			b = append(b, '%', hexd[c>>4], hexd[c&15])
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// removeDotSegments is RFC 3986 section 5.2.4, as curl's dedotdotify applies it.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	in := p
	out := make([]byte, 0, len(p))
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			out = popSegment(out)
		case in == "/..":
			in = "/"
			out = popSegment(out)
		case in == "." || in == "..":
			in = ""
		default:
			i := 1
			if in[0] != '/' {
				i = 0
			}
			j := strings.IndexByte(in[i:], '/')
			if j < 0 {
				j = len(in)
			} else {
				j += i
			}
			out = append(out, in[:j]...)
			in = in[j:]
		}
	}
	if len(out) == 0 {
		return "/"
	}
	return string(out)
}

func popSegment(b []byte) []byte {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '/' {
			return b[:i]
		}
	}
	return b[:0]
}

// resolveLocation resolves a Location header value against the URL of the request that
// got it, the way curl's concat_url does for relative references, and parses the result
// with the redirect flags.
func resolveLocation(base *reqURL, loc string) (*reqURL, *curlError) {
	if schemeLen(loc) > 0 {
		return parseCurlURL(loc, parseOptions{redirect: true})
	}
	prefix := base.scheme + "://"
	if base.hasUser {
		prefix += encodeUserinfo(base.user)
		if base.hasPass {
			prefix += ":" + encodeUserinfo(base.pass)
		}
		prefix += "@"
	}
	authority := base.host
	if base.explPort {
		authority += ":" + strconv.Itoa(base.port)
	}
	var abs string
	switch {
	case strings.HasPrefix(loc, "//"):
		abs = base.scheme + ":" + loc
	case strings.HasPrefix(loc, "/"):
		abs = prefix + authority + loc
	case strings.HasPrefix(loc, "?"):
		abs = prefix + authority + base.path + loc
	case strings.HasPrefix(loc, "#"):
		abs = prefix + authority + base.target() + loc
	default:
		dir := base.path
		if i := strings.LastIndexByte(dir, '/'); i >= 0 {
			dir = dir[:i+1]
		}
		abs = prefix + authority + dir + loc
	}
	return parseCurlURL(abs, parseOptions{redirect: true})
}

// badHostChars are the bytes curl refuses in a host name. A table built once: with
// strings.ContainsAny, building the set of 33 bytes for every URL was 1 % of a
// background request's CPU.
var badHostChars = newByteSet(" \r\n\t/:#?!@{}[]\\$'\"^`*<>=;,+&()%")

// byteSet is a set of bytes.
type byteSet [256]bool

func newByteSet(chars string) *byteSet {
	var s byteSet
	for i := 0; i < len(chars); i++ {
		s[chars[i]] = true
	}
	return &s
}

// in reports whether str holds a byte of the set.
func (s *byteSet) in(str string) bool {
	for i := 0; i < len(str); i++ {
		if s[str[i]] {
			return true
		}
	}
	return false
}

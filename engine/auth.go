// This file owns HTTP authentication as libcurl 7.88 performs it for Kamailio: the
// authmethod bitmask (CURLOPT_HTTPAUTH), preemptive Basic when Basic is the only bit, and
// otherwise an unauthenticated first request followed, after a 401, by one resend with the
// strongest offered and allowed method (Digest over Basic). Digest supports MD5, MD5-sess,
// SHA-256 and SHA-512-256 (and their -sess forms), qop=auth (and auth-int with an empty
// body hash, like curl), no qop, opaque and stale nonces.

package engine

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
)

// credentials of one transfer.
type credentials struct {
	user, pass string
	set        bool
	want       int // CURLAUTH_* bits
}

// authState is the per-transfer authentication state machine.
type authState struct {
	creds  credentials
	picked int // AuthBasic or AuthDigest once chosen; 0 before
	digest *digestChallenge
	nc     int
	resent int // resends done because of a 401
}

func newAuthState(c credentials) *authState {
	a := &authState{creds: c}
	// curl sends Basic up front only when it is exactly the wanted method.
	if c.set && c.want == AuthBasic {
		a.picked = AuthBasic
	}
	return a
}

// header returns the Authorization value for a request, or "".
func (a *authState) header(method, uri string) string {
	if a == nil || !a.creds.set {
		return ""
	}
	switch a.picked {
	case AuthBasic:
		return basicAuth(a.creds.user, a.creds.pass)
	case AuthDigest:
		if a.digest == nil {
			return ""
		}
		a.nc++
		return a.digest.authorization(a.creds.user, a.creds.pass, method, uri, a.nc)
	}
	return ""
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// on401 inspects the WWW-Authenticate challenges of a 401 and reports whether the request
// should be sent again with credentials.
func (a *authState) on401(challenges []string) bool {
	if a == nil || !a.creds.set {
		return false
	}
	var digest *digestChallenge
	basic := false
	for _, h := range challenges {
		for _, ch := range splitChallenges(h) {
			switch strings.ToLower(ch.scheme) {
			case "digest":
				if digest == nil {
					digest = parseDigestChallenge(ch.params)
				}
			case "basic":
				basic = true
			}
		}
	}
	wantDigest := a.creds.want&(AuthDigest|AuthDigestIE) != 0
	wantBasic := a.creds.want&AuthBasic != 0
	switch {
	case a.resent == 0 && a.picked == 0:
		if digest != nil && wantDigest {
			a.picked, a.digest = AuthDigest, digest
		} else if basic && wantBasic {
			a.picked = AuthBasic
		} else {
			return false
		}
		a.resent++
		return true
	case a.picked == AuthDigest && digest != nil && digest.stale && a.resent < 2:
		// A stale nonce is not a wrong password: retry once with the new nonce.
		a.digest, a.nc = digest, 0
		a.resent++
		return true
	}
	return false
}

type challenge struct {
	scheme string
	params string
}

// splitChallenges splits one WWW-Authenticate value into its challenges: a new challenge
// starts at a token that is not followed by '='.
func splitChallenges(h string) []challenge {
	var out []challenge
	i := 0
	for i < len(h) {
		for i < len(h) && (h[i] == ' ' || h[i] == '\t' || h[i] == ',') {
			i++
		}
		start := i
		for i < len(h) && h[i] != ' ' && h[i] != '\t' && h[i] != ',' && h[i] != '=' {
			i++
		}
		if start == i {
			i++
			continue
		}
		scheme := h[start:i]
		// params run until the next scheme token (token followed by space/comma/end,
		// not by '=') outside quotes
		pstart := i
		for i < len(h) {
			// skip a param
			for i < len(h) && (h[i] == ' ' || h[i] == '\t' || h[i] == ',') {
				i++
			}
			tstart := i
			for i < len(h) && h[i] != ' ' && h[i] != '\t' && h[i] != ',' && h[i] != '=' {
				i++
			}
			if i < len(h) && h[i] == '=' {
				i++
				if i < len(h) && h[i] == '"' {
					i++
					for i < len(h) && h[i] != '"' {
						if h[i] == '\\' {
							i++
						}
						i++
					}
					i++
				} else {
					for i < len(h) && h[i] != ',' {
						i++
					}
				}
				continue
			}
			if tstart < i {
				// a new scheme starts here
				i = tstart
				break
			}
		}
		if i > len(h) {
			i = len(h)
		}
		out = append(out, challenge{scheme: scheme, params: h[pstart:i]})
	}
	return out
}

// digestChallenge is a parsed Digest challenge.
type digestChallenge struct {
	realm, nonce, opaque string
	hasOpaque            bool
	algorithm            string // as sent; "" when absent
	qop                  string // "auth", "auth-int" or ""
	stale                bool
	newHash              func() hash.Hash
	sess                 bool
}

func parseDigestChallenge(params string) *digestChallenge {
	d := &digestChallenge{newHash: md5.New}
	for _, kv := range splitParams(params) {
		switch strings.ToLower(kv[0]) {
		case "realm":
			d.realm = kv[1]
		case "nonce":
			d.nonce = kv[1]
		case "opaque":
			d.opaque, d.hasOpaque = kv[1], true
		case "stale":
			d.stale = strings.EqualFold(kv[1], "true")
		case "algorithm":
			d.algorithm = kv[1]
			alg := strings.ToUpper(kv[1])
			if strings.HasSuffix(alg, "-SESS") {
				d.sess = true
				alg = strings.TrimSuffix(alg, "-SESS")
			}
			switch alg {
			case "MD5":
				d.newHash = md5.New
			case "SHA-256":
				d.newHash = sha256.New
			case "SHA-512-256":
				d.newHash = sha512.New512_256
			default:
				return nil // curl ignores a challenge with an unknown algorithm
			}
		case "qop":
			for _, q := range strings.Split(kv[1], ",") {
				switch strings.TrimSpace(strings.ToLower(q)) {
				case "auth":
					d.qop = "auth"
				case "auth-int":
					if d.qop == "" {
						d.qop = "auth-int"
					}
				}
			}
		}
	}
	if d.nonce == "" {
		return nil
	}
	return d
}

// splitParams parses `k=v, k="v"` lists.
func splitParams(s string) [][2]string {
	var out [][2]string
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		ks := i
		for i < len(s) && s[i] != '=' && s[i] != ',' {
			i++
		}
		key := strings.TrimSpace(s[ks:i])
		if i >= len(s) || s[i] != '=' {
			continue
		}
		i++
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var val strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
				i++
			}
			i++
		} else {
			vs := i
			for i < len(s) && s[i] != ',' {
				i++
			}
			val.WriteString(strings.TrimSpace(s[vs:i]))
		}
		out = append(out, [2]string{key, val.String()})
	}
	return out
}

func (d *digestChallenge) h(parts ...string) string {
	h := d.newHash()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// newCnonce is curl's cnonce: 32 random hex digits, base64-encoded.
func newCnonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(b[:])))
}

// quoteDigest escapes '"' and '\' the way curl does for the user name.
func quoteDigest(s string) string {
	if !strings.ContainsAny(s, "\"\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// authorization builds the header value in curl 7.88's field order.
func (d *digestChallenge) authorization(user, pass, method, uri string, nc int) string {
	cnonce := newCnonce()
	ha1 := d.h(user, d.realm, pass)
	if d.sess {
		ha1 = d.h(ha1, d.nonce, cnonce)
	}
	var ha2 string
	if d.qop == "auth-int" {
		ha2 = d.h(method, uri, d.h("")) // curl hashes an empty entity body
	} else {
		ha2 = d.h(method, uri)
	}
	ncs := strconv.FormatInt(int64(nc), 16)
	ncs = strings.Repeat("0", 8-len(ncs)) + ncs
	var b strings.Builder
	b.WriteString(`Digest username="`)
	b.WriteString(quoteDigest(user))
	b.WriteString(`", realm="`)
	b.WriteString(d.realm)
	b.WriteString(`", nonce="`)
	b.WriteString(d.nonce)
	b.WriteString(`", uri="`)
	b.WriteString(uri)
	if d.qop != "" {
		b.WriteString(`", cnonce="`)
		b.WriteString(cnonce)
		b.WriteString(`", nc=`)
		b.WriteString(ncs)
		b.WriteString(`, qop=`)
		b.WriteString(d.qop)
		b.WriteString(`, response="`)
		b.WriteString(d.h(ha1, d.nonce, ncs, cnonce, d.qop, ha2))
	} else {
		b.WriteString(`", response="`)
		b.WriteString(d.h(ha1, d.nonce, ha2))
	}
	b.WriteByte('"')
	if d.hasOpaque {
		b.WriteString(`, opaque="`)
		b.WriteString(d.opaque)
		b.WriteByte('"')
	}
	if d.algorithm != "" {
		b.WriteString(", algorithm=")
		b.WriteString(d.algorithm)
	}
	return b.String()
}

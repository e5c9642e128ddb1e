// This file owns CURLOPT_AWS_SIGV4 as libcurl 7.88.1's lib/http_aws_sigv4.c implements
// it (checked against that libcurl on the wire, and against AWS's published test
// vectors): the parameter parsing with its sscanf limits, region and service taken from
// the host name when absent, the canonical request built from the path and query as
// sent (neither re-encoded nor sorted), curl's Host line and every custom header entry
// lower-cased, trimmed and sorted as whole lines, the payload hash of CURLOPT_POSTFIELDS
// only, and the Authorization and X-<Provider>-Date lines. 7.88.1 adds no
// x-amz-content-sha256 header, for s3 or otherwise.

package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"
)

// SigV4Input is what curl's Curl_output_aws_sigv4 reads from a request.
type SigV4Input struct {
	// Param is CURLOPT_AWS_SIGV4: "provider1[:provider2[:region[:service]]]", e.g.
	// "aws:amz:us-east-1:s3". provider2 defaults to provider1; region and service, when
	// the service is absent, come from the host name "service.region.…".
	Param string
	// User is the access key id (the user name curl authenticates with; it goes into
	// Credential verbatim, even when empty). Password is the secret key.
	User     string
	Password string
	// Method is the request verb as sent (custom or not).
	Method string
	// Path is the request path as sent (after curl's dot-segment removal), starting
	// with "/"; Query is the query as sent, without "?". Neither is re-encoded or sorted.
	Path  string
	Query string
	// Hostname is the URL's host name (no port, no IPv6 brackets): where a missing
	// service and region are taken from.
	Hostname string
	// HostPort is the value of curl's own Host header ("host[:port]", the port only when
	// it is not the scheme's default). It is signed unless a custom Host entry exists.
	HostPort string
	// Headers is the request's CURLOPT_HTTPHEADER list. Every entry is signed, as curl
	// 7.88.1 signs them: removal markers ("Accept:") and empty ones ("X;") included.
	Headers []string
	// Payload is the CURLOPT_POSTFIELDS body (BodyString); nil for a request without one
	// (no body, a file or a multipart body), which hashes as the empty payload.
	Payload []byte
	// Now is the signing time (curl's time(): whole seconds, UTC).
	Now time.Time
}

// SigV4Headers are the lines curl sends in the position of the Authorization header
// (after Host and any Proxy-Authorization, before User-Agent and Accept), in this order.
type SigV4Headers struct {
	// Authorization is the Authorization header value:
	// "AWS4-HMAC-SHA256 Credential=<user>/<date>/<region>/<service>/aws4_request,
	// SignedHeaders=<names>, Signature=<hex>".
	Authorization string
	// Date is the whole date header line without CRLF: "X-Amz-Date: 20261123T060728Z",
	// or, when a custom entry for that header exists, that entry verbatim (which curl
	// then also sends again among the custom headers, and whose value is the date
	// signed).
	Date string
}

// sigv4MaxLen is MAX_SIGV4_LEN: the longest provider, region or service.
const sigv4MaxLen = 64

// sigv4MaxHostLine is FULL_HOST_LEN: the longest Host line ("Host: …\r\n") curl signs.
const sigv4MaxHostLine = 255 + len("host:") + 1

// SignSigV4 computes curl 7.88.1's AWS SigV4 headers. It returns nil, nil when a custom
// Authorization entry exists (curl then signs nothing). Errors carry the curl code the
// transfer fails with: 43 for an empty first provider, 3 when the service or region is
// missing from both the parameter and the host name or too long there, or when the Host
// line is too long, and 27 when a custom date entry has no ':'.
//
// curl signs only when authentication is on at all: the caller must call it only when a
// user name is set (an empty one counts). It is computed for every request sent with
// credentials, redirects to the same host included.
func SignSigV4(in *SigV4Input) (*SigV4Headers, error) {
	if sigv4HasHeader(in.Headers, "Authorization") {
		return nil, nil
	}
	f := sigv4ScanParam(in.Param)
	provider0, provider1, region, service := f[0], f[1], f[2], f[3]
	if provider0 == "" {
		return nil, newCurlError(curlBadFunctionArg, "first provider can't be empty")
	}
	if provider1 == "" {
		provider1 = provider0
	}
	if service == "" {
		dot := strings.IndexByte(in.Hostname, '.')
		if dot < 0 {
			return nil, newCurlError(curlURLMalformat, "service missing in parameters and hostname")
		}
		if dot > sigv4MaxLen {
			return nil, newCurlError(curlURLMalformat, "service too long in hostname")
		}
		service = in.Hostname[:dot]
		if region == "" {
			reg := in.Hostname[dot+1:]
			end := strings.IndexByte(reg, '.')
			if end < 0 {
				return nil, newCurlError(curlURLMalformat, "region missing in parameters and hostname")
			}
			if end > sigv4MaxLen {
				return nil, newCurlError(curlURLMalformat, "region too long in hostname")
			}
			region = reg[:end]
		}
	}

	timestamp := in.Now.UTC().Format("20060102T150405Z")

	// make_headers
	p1 := sigv4Lower(provider1)
	dateKey := "X-" + sigv4Upper(p1[:1]) + p1[1:] + "-Date"
	var lines []string
	if !sigv4HasHeader(in.Headers, "Host") {
		hostLine := "Host: " + in.HostPort
		if len(hostLine)+2 > sigv4MaxHostLine {
			return nil, newCurlError(curlURLMalformat, "host name too long to sign")
		}
		lines = append(lines, hostLine)
	}
	lines = append(lines, in.Headers...)
	for i, l := range lines {
		lines[i] = sigv4Trim(l)
	}
	out := &SigV4Headers{}
	if e, ok := sigv4CustomHeader(in.Headers, dateKey); ok {
		colon := strings.IndexByte(e, ':')
		if colon < 0 {
			return nil, newCurlError(curlOutOfMemory, "date header without a value")
		}
		out.Date = e
		v := strings.TrimLeft(e[colon+1:], " \t")
		if len(v) > 16 {
			v = v[:16]
		}
		timestamp = v
	} else {
		lines = append(lines, "x-"+p1+"-date:"+timestamp)
		out.Date = dateKey + ": " + timestamp
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i] < lines[j] })
	var canonHeaders, signed strings.Builder
	for i, l := range lines {
		canonHeaders.WriteString(l)
		canonHeaders.WriteByte('\n')
		if i > 0 {
			signed.WriteByte(';')
		}
		name, _, _ := strings.Cut(l, ":")
		signed.WriteString(name)
	}

	date := timestamp
	if len(date) > 8 {
		date = date[:8]
	}
	payload := sha256.Sum256(in.Payload)
	canonical := in.Method + "\n" + in.Path + "\n" + in.Query + "\n" + canonHeaders.String() + "\n" +
		signed.String() + "\n" + hex.EncodeToString(payload[:])

	p0lower, p0upper := sigv4Lower(provider0), sigv4Upper(provider0)
	requestType := p0lower + "4_request"
	scope := date + "/" + region + "/" + service + "/" + requestType
	crHash := sha256.Sum256([]byte(canonical))
	toSign := p0upper + "4-HMAC-SHA256\n" + timestamp + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])

	k := sigv4HMAC([]byte(p0upper+"4"+in.Password), date)
	k = sigv4HMAC(k, region)
	k = sigv4HMAC(k, service)
	k = sigv4HMAC(k, requestType)
	sig := sigv4HMAC(k, toSign)

	out.Authorization = p0upper + "4-HMAC-SHA256 Credential=" + in.User + "/" + scope +
		", SignedHeaders=" + signed.String() + ", Signature=" + hex.EncodeToString(sig)
	return out, nil
}

func sigv4HMAC(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// sigv4HasHeader is Curl_checkheaders: does a custom entry start with name (any case)
// followed by ':' or ';'?
func sigv4HasHeader(entries []string, name string) bool {
	_, ok := sigv4CustomHeader(entries, name)
	return ok
}

// sigv4CustomHeader is Curl_checkheaders returning the entry: the first one starting
// with name (any case) followed by ':' or ';'.
func sigv4CustomHeader(entries []string, name string) (string, bool) {
	for _, e := range entries {
		if len(e) > len(name) && strings.EqualFold(e[:len(name)], name) && (e[len(name)] == ':' || e[len(name)] == ';') {
			return e, true
		}
	}
	return "", false
}

// sigv4ScanParam is curl's sscanf(arg, "%64[^:]:%64[^:]:%64[^:]:%64s", …): each of the
// first three fields is 1..64 characters other than ':' and must be followed by ':' for
// scanning to go on; the fourth skips leading white space and takes up to 64 characters
// up to the next white space (':' included). Scanning stops at the first failure.
func sigv4ScanParam(s string) [4]string {
	var f [4]string
	i := 0
	for k := 0; k < 3; k++ {
		j := i
		for j < len(s) && j-i < sigv4MaxLen && s[j] != ':' {
			j++
		}
		if j == i {
			return f
		}
		f[k] = s[i:j]
		if j >= len(s) || s[j] != ':' {
			return f
		}
		i = j + 1
	}
	for i < len(s) && sigv4IsSpace(s[i]) {
		i++
	}
	j := i
	for j < len(s) && j-i < sigv4MaxLen && !sigv4IsSpace(s[j]) {
		j++
	}
	f[3] = s[i:j]
	return f
}

// sigv4IsSpace is C's isspace in the C locale.
func sigv4IsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// sigv4Trim is curl's trim_headers on one line: the name (up to the first ':', or the
// whole line without one) lower-cased; in the value, leading blanks dropped, every run
// of blanks (space, tab) inside made one space and trailing ones dropped.
func sigv4Trim(l string) string {
	colon := strings.IndexByte(l, ':')
	if colon < 0 {
		return sigv4Lower(l)
	}
	var b strings.Builder
	b.Grow(len(l))
	b.WriteString(sigv4Lower(l[:colon]))
	b.WriteByte(':')
	v := strings.TrimLeft(l[colon+1:], " \t")
	for i := 0; i < len(v); {
		if v[i] == ' ' || v[i] == '\t' {
			j := i
			for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
				j++
			}
			if j < len(v) {
				b.WriteByte(' ')
			}
			i = j
			continue
		}
		b.WriteByte(v[i])
		i++
	}
	return b.String()
}

// sigv4Lower lower-cases ASCII letters only (Curl_strntolower).
func sigv4Lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// sigv4Upper upper-cases ASCII letters only (Curl_strntoupper).
func sigv4Upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// This file owns HTTP/2 over TLS. libcurl 7.88 with nghttp2 offers ALPN "h2,http/1.1" on
// every https connection (never to the proxy itself) and speaks HTTP/2 when the server picks
// "h2"; plain http stays HTTP/1.1. The framing is net/http's own HTTP/2 client
// (Transport.NewClientConn over the connection hc dialled and handshook itself). This file
// starts that client connection, turns hc's HTTP/1.1 request head into HTTP/2 fields the way
// curl 7.88 does (lib/h2h3.c), turns the response into hc's response, and maps HTTP/2
// failures to the curl codes curl 7.88.1 returns for them (checked against the curl 7.88.1
// command-line tool).

package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// h2Std makes HTTP/2 client connections out of connections hc has already established. It
// never dials, pools or proxies anything itself: its DialTLSContext only hands back the
// *tls.Conn carried by the context of NewClientConn.
var h2Std = newH2Std()

type h2ConnKey struct{}

func newH2Std() *http.Transport {
	var p http.Protocols
	p.SetHTTP2(true)
	return &http.Transport{
		Protocols: &p,
		// curl sends no Accept-Encoding and never decompresses.
		DisableCompression: true,
		// Advertised as SETTINGS_MAX_HEADER_LIST_SIZE. curl's own cumulative 300 KB limit is
		// applied by exchangeH2; HTTP/2 counts 32 extra bytes per field, hence the margin.
		MaxResponseHeaderBytes: 4 * maxRespHeaderTotal,
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			if c, ok := ctx.Value(h2ConnKey{}).(*tls.Conn); ok {
				return c, nil
			}
			return nil, errors.New("no established connection to use")
		},
	}
}

// startH2 runs HTTP/2 on pc when the TLS handshake selected "h2". The client connection's
// background reader lives until pc is released.
func (pc *pconn) startH2(addr string, deadline time.Time) *curlError {
	tc, ok := pc.conn.(*tls.Conn)
	if !ok || tc.ConnectionState().NegotiatedProtocol != "h2" {
		return nil
	}
	if pc.fd != nil {
		pc.fd.usePoller() // the HTTP/2 reader goroutine must be stoppable by Close
	}
	ctx := context.WithValue(context.Background(), h2ConnKey{}, tc)
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	cc, err := h2Std.NewClientConn(ctx, "https", addr)
	if err != nil {
		return h2Failure(err, deadline, false, "starting HTTP/2")
	}
	pc.h2 = cc
	// The HTTP/1.1 reader is never used on this connection.
	if pc.br != nil {
		pc.br.Reset(nil)
		readerPool.Put(pc.br)
		pc.br = nil
	}
	return nil
}

// h2Usable reports whether an HTTP/2 connection can take another request (not closed, no
// GOAWAY received).
func (pc *pconn) h2Usable() bool {
	return pc.h2.Err() == nil && pc.h2.Available() > 0
}

// h2Stream is the open response stream of an HTTP/2 exchange, until readBody is done.
type h2Stream struct {
	body     io.ReadCloser
	cancel   context.CancelFunc
	deadline time.Time
}

func (s *h2Stream) close() {
	_ = s.body.Close() // resets the stream if the body was not read to its end
	s.cancel()
}

// h2Request is an HTTP/1.1 request head converted to HTTP/2 fields.
type h2Request struct {
	method    string
	path      string
	authority string // "" when the head had no Host line
	fields    http.Header
	hasCL     bool // the head carried a Content-Length line
}

// convertHead turns the HTTP/1.1 head hc would send into HTTP/2 fields like curl 7.88's
// Curl_pseudo_headers: the request line gives :method and :path, the (last) Host line
// :authority, names are lower-cased, values lose their leading blanks, and the
// connection-specific fields are dropped ("te" survives as "trailers" when it lists
// trailers). A line without a colon, an empty line or a line starting with a blank (possible
// through CRLF inside query hdrs) makes curl fail the request with 27, and so does hc.
func convertHead(head []byte) (*h2Request, *curlError) {
	fail := newCurlError(curlOutOfMemory, "cannot convert the request header to HTTP/2")
	head = bytes.TrimSuffix(head, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	method, rest, ok1 := strings.Cut(lines[0], " ")
	target, _, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 {
		return nil, fail
	}
	r := &h2Request{method: method, path: target, fields: make(http.Header)}
	for _, l := range lines[1:] {
		if l == "" || l[0] == ' ' || l[0] == '\t' {
			return nil, fail
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fail
		}
		value = strings.TrimLeft(value, " \t")
		name = asciiLower(name)
		switch name {
		case "host":
			r.authority = value
			continue
		case "te":
			if !listsTrailers(value) {
				continue
			}
			value = "trailers"
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			continue
		case "content-length":
			// net/http writes content-length itself from the body it sends.
			r.hasCL = true
			continue
		}
		r.fields[name] = append(r.fields[name], value)
	}
	return r, nil
}

// valid reports whether net/http will send the method and fields: tokens for the method
// and the names, no control characters but HTAB in the values.
func (r *h2Request) valid() bool {
	if !isToken(r.method) {
		return false
	}
	for name, values := range r.fields {
		if !isToken(name) {
			return false
		}
		for _, v := range values {
			for i := 0; i < len(v); i++ {
				if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
					return false
				}
			}
		}
	}
	return true
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// listsTrailers is curl's contains_trailers: is "trailers" one of the comma-separated
// tokens of a TE value?
func listsTrailers(v string) bool {
	for _, tok := range strings.Split(v, ",") {
		if strings.EqualFold(strings.Trim(tok, " \t"), "trailers") {
			return true
		}
	}
	return false
}

// httpRequest builds the net/http request for one HTTP/2 exchange. hostPort is the URL's
// authority, used when the head had no Host line (HTTP/2 needs one).
func (r *h2Request) httpRequest(ctx context.Context, hostPort string, body []byte) *http.Request {
	authority := r.authority
	if authority == "" {
		authority = hostPort
	}
	// Opaque keeps the path byte for byte (net/http would re-escape Path). A path starting
	// with "//" would read as a network path; net/http strips "https://authority" again.
	p, q, hasQ := strings.Cut(r.path, "?")
	if strings.HasPrefix(p, "//") {
		p = "//" + authority + p
	}
	if _, ok := r.fields["user-agent"]; !ok {
		// An empty value keeps net/http from adding its own user-agent.
		r.fields["user-agent"] = []string{""}
	}
	req := &http.Request{
		Method:     r.method,
		URL:        &url.URL{Scheme: "https", Host: authority, Opaque: p, RawQuery: q, ForceQuery: hasQ && q == ""},
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header:     r.fields,
		Host:       authority,
	}
	switch {
	case len(body) > 0:
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	case !r.hasCL && (r.method == "POST" || r.method == "PUT" || r.method == "PATCH"):
		// curl sends no content-length here (e.g. http_client_request("POST") without a
		// body); net/http would send "content-length: 0" for a nil body with these methods,
		// but not for a body of unknown length that turns out empty.
		req.Body = io.NopCloser(bytes.NewReader(nil))
	}
	return req.WithContext(ctx)
}

// exchangeH2 sends one request over the HTTP/2 connection of pc and returns the final
// response head; its body is read by readBody.
func (x *xfer) exchangeH2(pc *pconn, h *reqHead, body []byte) (*response, *curlError) {
	h.expect = false // curl 7.88 never sends Expect: 100-continue over HTTP/2
	bp := headPool.Get().(*[]byte)
	head := h.write((*bp)[:0])
	conv, cerr := convertHead(head)
	*bp = head[:0]
	headPool.Put(bp)
	if cerr != nil {
		return nil, cerr
	}
	if !conv.valid() {
		// curl sends such a request and the server resets the stream; net/http refuses to
		// send it at all.
		return nil, newCurlError(curlHTTP2StreamError, "invalid method or header field for HTTP/2")
	}
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if !x.deadline.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, x.deadline)
	}
	res, err := pc.h2.RoundTrip(conv.httpRequest(ctx, h.hostPort, body))
	if err != nil {
		cancel()
		return nil, h2Failure(err, x.deadline, false, "HTTP/2 request")
	}
	resp := h2Response(res)
	resp.h2 = &h2Stream{body: res.Body, cancel: cancel, deadline: x.deadline}
	// curl counts "HTTP/2 200 \r\n", each "name: value\r\n" and the final CRLF.
	x.hc.total += len("HTTP/2 000 \r\n") + len(resp.header) + 2
	if x.hc.total > maxRespHeaderTotal {
		resp.h2.close()
		return nil, newCurlError(curlRecvError, "too large response headers: "+strconv.Itoa(x.hc.total)+" > "+strconv.Itoa(maxRespHeaderTotal))
	}
	return resp, nil
}

// h2Response converts a net/http response head. HTTP/2 field names are lower case; net/http
// keeps no wire order across names, so the lines are sorted by name (values of one name keep
// their order).
func h2Response(res *http.Response) *response {
	r := &response{status: res.StatusCode, proto: "HTTP/2", contentLength: -1}
	names := make([]string, 0, len(res.Header))
	for k := range res.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		lk := asciiLower(k)
		for _, v := range res.Header[k] {
			start := len(r.header)
			r.header = append(r.header, lk...)
			r.header = append(r.header, ": "...)
			r.header = append(r.header, v...)
			r.header = append(r.header, '\r', '\n')
			r.parseField(r.header[start:])
		}
	}
	return r
}

var h2BufPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// readBodyH2 reads the whole HTTP/2 response body into sink and ends the stream.
func (pc *pconn) readBodyH2(resp *response, sink *bodySink) *curlError {
	s := resp.h2
	defer s.close()
	bp := h2BufPool.Get().(*[]byte)
	defer h2BufPool.Put(bp)
	buf := *bp
	for {
		n, err := s.body.Read(buf)
		sink.write(buf[:n])
		if sink.over() {
			return sink.overError()
		}
		if err == io.EOF { // the stream ended cleanly; a wrapped EOF is a failure
			break
		}
		if err != nil {
			return h2Failure(err, s.deadline, true, "receiving HTTP/2 body")
		}
	}
	if !pc.h2Usable() {
		resp.connClose = true
	}
	return nil
}

// HTTP/2 error codes hc looks at (RFC 9113 section 7).
const h2RefusedStream = 0x7

// h2Failure maps an error of an HTTP/2 exchange to the code curl 7.88.1 returns. gotHead
// says whether the response head had arrived. Measured with curl 7.88.1: a stream reset is
// 92 and leaves the connection usable; a GOAWAY for an unanswered stream is 16; the
// connection closing before the stream ended is 18 (before or after the head); a refused
// stream is retried by curl once on a new connection (56 if that fails too). Other framing
// and connection errors are 16.
func h2Failure(err error, deadline time.Time, gotHead bool, what string) *curlError {
	msg := what + ": " + errText(err)
	if (!deadline.IsZero() && !time.Now().Before(deadline)) || isTimeout(err) {
		return newCurlError(curlTimeout, msg)
	}
	if v, ok := stdH2Error(err, "StreamError"); ok {
		if f := v.FieldByName("Code"); f.IsValid() && f.CanUint() && f.Uint() == h2RefusedStream {
			return &curlError{code: curlRecvError, msg: msg, refused: true}
		}
		return newCurlError(curlHTTP2StreamError, msg)
	}
	var oe *net.OpError
	switch _, goAway := stdH2Error(err, "GoAwayError"); {
	case goAway && gotHead, errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newCurlError(curlPartialFile, "HTTP/2 stream was not closed cleanly before end of the underlying stream")
	case goAway:
		return newCurlError(curlHTTP2Error, msg)
	case errors.As(err, &oe):
		if oe.Op == "write" {
			return newCurlError(curlSendError, msg)
		}
		return newCurlError(curlRecvError, msg)
	}
	return newCurlError(curlHTTP2Error, msg)
}

// stdH2Error finds one of net/http's HTTP/2 error types (http2StreamError,
// http2GoAwayError: its bundled copies of golang.org/x/net/http2's StreamError and
// GoAwayError) in err's chain. net/http does not export them, so they are recognised by
// their type name within net/http; h2_test.go pins this for stream resets and GOAWAY.
func stdH2Error(err error, suffix string) (reflect.Value, bool) {
	if err == nil {
		return reflect.Value{}, false
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if strings.HasPrefix(t.PkgPath(), "net/http") && strings.HasSuffix(t.Name(), suffix) {
		return reflect.Indirect(reflect.ValueOf(err)), true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return stdH2Error(u.Unwrap(), suffix)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if v, ok := stdH2Error(e, suffix); ok {
				return v, true
			}
		}
	}
	return reflect.Value{}, false
}

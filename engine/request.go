// This file owns the request side of Kamailio's http_client: the public request functions
// (http_connect, http_client_query, http_client_get, http_client_request), their method,
// body and header rules, the transfer itself (connection reuse, auth round trips, redirects
// without a limit, the total timeout), the result rules, counters, and failover.

package engine

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"time"
)

// maxTimeout is the largest CURLOPT_TIMEOUT curl 7.88 accepts (seconds).
const maxTimeout = 2147483

// request is one transfer as Kamailio configures its curl handle.
type request struct {
	method   string // request-line method
	custom   bool   // CURLOPT_CUSTOMREQUEST: the method survives POST->GET redirects
	post     bool   // POSTFIELDS set (curl's HTTPREQ_POST)
	body     []byte // already cut at the first NUL
	headers  []string
	ua       OptString
	timeout  int
	follow   bool
	maxSize  int
	oneline  bool
	tr       *transport
	pool     *connPool // kept connections (keep_connections); nil: none survive the call
	conn     *Connection
	connAuth bool // CURLOPT_USERNAME/HTTPAUTH set from the connection

	// Set by background requests (bgtransfer.go); the zero values are Kamailio's.
	ctx            context.Context // interrupts a dial when done; nil: a synchronous request (direct I/O)
	stop           *stopHook       // interrupts the transfer's I/O on a cancel or shutdown; nil: never
	deadline       time.Time       // absolute total deadline; overrides timeout when set
	connectTimeout time.Duration   // CURLOPT_CONNECTTIMEOUT; 0: libcurl's 300 s
	maxRedirs      int             // redirects followed at most (then 47); 0: no limit
	keepAll        bool            // the final body is the result whatever the status (Halon)
	maxFileSize    int64           // CURLOPT_MAXFILESIZE: 63 by Content-Length, else 23
	creds          *credentials    // CURLOPT_USERNAME/PASSWORD without HTTPAUTH: Basic
	sigv4          *SigV4Input     // CURLOPT_AWS_SIGV4 (per attempt: method, URL, time)
	timings        *Timings        // filled with the phases, measured from timingsFrom
	timingsFrom    time.Time
	parsedURL      *reqURL // the URL already parsed from the transfer's rawURL; nil: parse it
	sent           *pconn  // the loop wrote the first request on it (bgloop.go): read its response
	fresh          bool    // the first request goes on a new connection (a kept one died)
}

// cutNUL is curl's strlen on POSTFIELDS: the body ends at the first NUL byte.
func cutNUL(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// contentTypeHeader is Kamailio's snprintf(buf, 256, "Content-Type: %s").
func contentTypeHeader(ct string) string {
	h := "Content-Type: " + ct
	if len(h) > 255 {
		h = h[:255]
	}
	return h
}

// HTTPConnect is http_connect / http_connect_raw on the API path: GET when data is empty,
// else POST with Content-Type contentType ("text/plain" when unset; set to "" sends none).
func (e *Engine) HTTPConnect(con, url string, contentType OptString, data []byte) *Result {
	return e.connect(con, url, contentType, data, 0)
}

func (e *Engine) connect(con, url string, contentType OptString, data []byte, depth int) *Result {
	cs, ok := e.conns[con]
	if !ok {
		return internalError(UnknownConnection, "No cURL connection found: "+con)
	}
	c := cs.conn
	r := &request{
		method:   "GET",
		ua:       c.UserAgent,
		timeout:  c.Timeout,
		follow:   c.HTTPRedirect != 0,
		maxSize:  c.MaxDataSize,
		tr:       cs.tr,
		pool:     cs.pool,
		conn:     c,
		connAuth: c.Username.Set,
	}
	if len(data) > 0 {
		r.method, r.post, r.body = "POST", true, cutNUL(data)
		ct := "text/plain"
		if contentType.Set {
			ct = contentType.Value
		}
		if err := checkNoLineBreak("content type", ct); err != nil {
			return internalError(InvalidRequest, err.Error())
		}
		r.headers = []string{contentTypeHeader(ct)}
	}
	raw, u := cs.target(url)
	r.parsedURL = u
	cs.beginRequest()
	res := e.transfer(r, raw)
	e.cnt.countResult(res.Status, res.CurlCode)
	cs.endRequest(res)

	if (res.CurlCode != 0 || res.Status >= 500) && c.Failover != "" && depth == 0 {
		// One hop only: the failover's own failover is never tried.
		e.discardBody(res.Body, res.BodyExternal)
		return e.connect(c.Failover, url, contentType, data, depth+1)
	}
	return res
}

// Query is http_client_query: GET, or POST when post is non-empty, with the global
// settings, the query_result first-line rule and query_maxdatasize.
func (e *Engine) Query(url string, post []byte, hdrs string) *Result {
	if len(post) > 0 {
		return e.query("POST", false, url, post, hdrs)
	}
	return e.query("GET", false, url, nil, hdrs)
}

// QueryC is http_client_query_c (C API): like Query, plus "Content-Type: ctype" when post
// is non-empty; a Content-Type in hdrs is sent as well.
func (e *Engine) QueryC(url string, post []byte, ctype OptString, hdrs string) *Result {
	if len(post) == 0 || !ctype.Set {
		return e.Query(url, post, hdrs)
	}
	if err := checkNoLineBreak("content type", ctype.Value); err != nil {
		return internalError(InvalidRequest, err.Error())
	}
	return e.queryHeaders("POST", false, url, post, []string{hdrs, contentTypeHeader(ctype.Value)})
}

// ClientGet is http_client_get: a GET that carries body (with curl's form Content-Type)
// when body is non-empty.
func (e *Engine) ClientGet(url string, body []byte, hdrs string) *Result {
	return e.query("GET", true, url, body, hdrs)
}

// Request is Kamailio 6.0's http_client_request: the method as given, the body only when
// non-empty.
func (e *Engine) Request(method, url string, body []byte, hdrs string) *Result {
	if method == "" {
		return internalError(InvalidRequest, "no HTTP method given")
	}
	if err := checkMethod(method); err != nil {
		return internalError(InvalidRequest, err.Error())
	}
	return e.query(method, true, url, body, hdrs)
}

func (e *Engine) query(method string, custom bool, url string, body []byte, hdrs string) *Result {
	return e.queryHeaders(method, custom, url, body, []string{hdrs})
}

func (e *Engine) queryHeaders(method string, custom bool, url string, body []byte, hdrs []string) *Result {
	if url == "" {
		return internalError(InvalidRequest, "URL has no value")
	}
	d := &e.cfg.Defaults
	r := &request{
		method:  method,
		custom:  custom,
		timeout: d.ConnectionTimeout,
		follow:  d.HTTPRedirect != 0,
		maxSize: e.cfg.QueryMaxDataSize,
		oneline: e.cfg.QueryResult != 0,
		tr:      e.queryTr,
	}
	if d.UserAgent.Set && d.UserAgent.Value != "" {
		r.ua = d.UserAgent
	}
	for _, h := range hdrs {
		if h != "" {
			r.headers = append(r.headers, h)
		}
	}
	if err := checkHeaderEntries(r.headers); err != nil {
		return internalError(InvalidRequest, err.Error())
	}
	if len(body) > 0 {
		r.post, r.body = true, cutNUL(body)
	}
	res := e.transfer(r, url)
	e.cnt.countResult(res.Status, res.CurlCode)
	return res
}

// xfer is the state of one transfer (one curl_easy_perform).
type xfer struct {
	r        *request
	deadline time.Time
	hc       headerCounter
	conns    []*pconn // connections of this transfer, reusable within it

	mu      sync.Mutex // guards touched and stopped: interrupt runs on another goroutine
	touched []*pconn   // every connection the transfer has used
	stopped bool
}

// use records pc as used by the transfer, so that interrupt can reach it.
func (x *xfer) use(pc *pconn) {
	if x.r.ctx == nil {
		return
	}
	x.mu.Lock()
	x.touched = append(x.touched, pc)
	stopped := x.stopped
	x.mu.Unlock()
	if stopped {
		_ = pc.conn.SetDeadline(time.Unix(1, 0))
	}
}

// interrupt makes every blocked read or write of the transfer fail at once.
func (x *xfer) interrupt() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.stopped = true
	for _, pc := range x.touched {
		_ = pc.conn.SetDeadline(time.Unix(1, 0))
	}
}

// transfer performs r on rawURL with everything curl does inside one curl_easy_perform.
func (e *Engine) transfer(r *request, rawURL string) *Result {
	// Options curl rejects at setopt time: nothing is sent.
	if r.timeout < 0 || r.timeout > maxTimeout {
		return curlErrorResult(newCurlError(curlBadFunctionArg, "timeout out of range"))
	}
	if r.tr.setoptErr != nil {
		return curlErrorResult(r.tr.setoptErr)
	}
	if r.connAuth && r.conn.AuthMethod&0x7fffffff == 0 {
		return curlErrorResult(newCurlError(curlNotBuiltIn, "no usable authmethod"))
	}
	u := r.parsedURL
	if u == nil {
		var cerr *curlError
		if u, cerr = parseCurlURL(rawURL, parseOptions{}); cerr != nil {
			return curlErrorResult(cerr)
		}
	}

	x := &xfer{r: r}
	switch {
	case !r.deadline.IsZero():
		x.deadline = r.deadline
	case r.timeout > 0:
		x.deadline = time.Now().Add(time.Duration(r.timeout) * time.Second)
	}
	defer x.finish()
	if r.stop != nil {
		// A cancel or shutdown must stop I/O that no deadline would end soon; the total
		// timeout is the connections' own deadline (x.deadline).
		r.stop.attach(x)
		defer r.stop.detach()
	}

	var creds credentials
	switch {
	case r.connAuth:
		creds = credentials{user: r.conn.Username.Value, pass: r.conn.Password.Value, set: true, want: r.conn.AuthMethod}
	case r.creds != nil:
		creds = *r.creds
	case u.hasUser:
		// URL credentials without CURLOPT_HTTPAUTH: curl's default, preemptive Basic.
		creds = credentials{user: u.user, pass: u.pass, set: true, want: AuthBasic}
	}
	auth := newAuthState(creds)
	first := u
	method, post, body := r.method, r.post, r.body
	redirects := 0

	for {
		authAllowed := sameOrigin(first, u)
		authNeg := post && creds.set && auth.picked == 0 && creds.want == AuthDigest
		resp, pc, cerr := x.roundTrip(u, method, post, body, auth, authAllowed, authNeg)
		if cerr != nil {
			return curlErrorResult(cerr)
		}

		next := ""
		switch {
		case resp.status == 401 && authAllowed && auth.on401(resp.wwwAuth):
			next = "auth"
		case r.follow && resp.status >= 300 && resp.status < 400 && resp.location != "":
			next = "redirect"
		}
		sink := bodySink{keep: next == "" && (r.keepAll || resp.status >= 200 && resp.status < 500),
			max: r.maxSize, oneline: r.oneline, limit: r.maxFileSize, ceiling: e.cfg.MaxBodySize, alloc: e.alloc}
		if r.maxFileSize > 0 && resp.contentLength > r.maxFileSize {
			x.drop(pc)
			return curlErrorResult(newCurlError(curlFileSizeExceeded, "Content-Length above max_file_size"))
		}
		if cerr := pc.readBody(resp, &sink); cerr != nil {
			x.failed(pc, cerr)
			e.discardBody(sink.buf, sink.external)
			return curlErrorResult(cerr)
		}
		if !resp.reusable() || resp.connClose {
			x.drop(pc)
		}

		switch next {
		case "auth":
			continue
		case "redirect":
			if r.maxRedirs > 0 && redirects >= r.maxRedirs {
				return curlErrorResult(newCurlError(curlTooManyRedirects, "maximum redirects followed"))
			}
			redirects++
			nu, cerr := resolveLocation(u, resp.location)
			if cerr != nil {
				return curlErrorResult(cerr)
			}
			switch resp.status {
			case 301, 302, 303:
				if post {
					// curl switches POST to GET (no CURLOPT_POSTREDIR); a custom method
					// string stays, the body and its Content-Length go.
					post, body = false, nil
					if !r.custom {
						method = "GET"
					}
				}
			}
			u = nu
			continue
		}

		res := &Result{
			Ret:          resp.status,
			Status:       resp.status,
			ContentType:  resp.contentType,
			EffectiveURL: u.String(),
			Header:       resp.header,
			HTTPVersion:  resp.proto,
		}
		if r.keepAll {
			res.Body, res.BodyKept = sink.buf, true
		} else {
			res.keepBody(sink.buf, r.maxSize, r.oneline)
		}
		res.BodyExternal = sink.external
		if sink.external && res.Body == nil { // not kept after all
			e.discardBody(sink.buf, true)
			res.BodyExternal = false
		}
		return res
	}
}

// sameOrigin is curl's Curl_auth_allowed_to_host for a followed redirect.
func sameOrigin(a, b *reqURL) bool {
	return a == b || (a.scheme == b.scheme && strings.EqualFold(a.hostname, b.hostname) && a.port == b.port)
}

// conn returns a connection for u: one already used by this transfer, a kept one (unless
// fresh), or a new one.
func (x *xfer) conn(u *reqURL, p *proxySpec, fresh bool) (*pconn, *curlError) {
	key := x.r.tr.connKey(u, p)
	for i, pc := range x.conns {
		if pc.key == key {
			x.conns = append(x.conns[:i], x.conns[i+1:]...)
			x.setDeadline(pc)
			return pc, nil
		}
	}
	if x.r.pool != nil && !fresh {
		if pc := x.r.pool.get(key); pc != nil {
			x.setDeadline(pc)
			x.use(pc)
			return pc, nil
		}
	}
	ctx := x.r.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	// A synchronous request (no ctx) runs on the host's thread: direct I/O.
	pc, cerr := x.r.tr.dial(ctx, u, p, x.deadline, x.r.connectTimeout, x.r.ua, x.r.ctx == nil)
	if pc != nil {
		x.use(pc)
		if t := x.r.timings; t != nil && t.Connect == 0 {
			t.Connect = pc.connected.Sub(x.r.timingsFrom)
			if !pc.handshaken.IsZero() {
				t.TLS = pc.handshaken.Sub(x.r.timingsFrom)
			}
		}
	}
	return pc, cerr
}

func (x *xfer) setDeadline(pc *pconn) {
	_ = pc.conn.SetDeadline(x.deadline)
}

// keep makes pc available to the rest of the transfer.
func (x *xfer) keep(pc *pconn) { x.conns = append(x.conns, pc) }

// drop closes a connection that cannot be reused.
func (x *xfer) drop(pc *pconn) {
	for i, c := range x.conns {
		if c == pc {
			x.conns = append(x.conns[:i], x.conns[i+1:]...)
			break
		}
	}
	pc.release()
}

// failed disposes of pc after a failed exchange: an HTTP/2 connection whose stream alone
// was reset stays usable (curl leaves it intact), anything else is closed.
func (x *xfer) failed(pc *pconn, cerr *curlError) {
	if pc.h2 != nil && cerr.code == curlHTTP2StreamError && pc.h2Usable() {
		for _, c := range x.conns {
			if c == pc {
				return
			}
		}
		x.keep(pc)
		return
	}
	x.drop(pc)
}

// retriable reports whether a failure on a reused connection before any response byte
// means the connection had died while idle, so that curl retries the request on a new one.
func retriable(code int, h2 bool) bool {
	switch code {
	case curlGotNothing, curlSendError, curlRecvError:
		return true
	case curlHTTP2Error, curlPartialFile: // GOAWAY or close of an idle HTTP/2 connection
		return h2
	}
	return false
}

// finish ends the transfer: with keep_connections its connections are kept for the next
// call, otherwise they are closed (without any "Connection: close" having been sent).
func (x *xfer) finish() {
	for _, pc := range x.conns {
		if x.r.pool != nil {
			pc.reused = false
			x.r.pool.put(pc)
		} else {
			pc.release()
		}
	}
	x.conns = nil
}

// roundTrip sends one request and reads the response head. A kept connection that turns
// out dead before any response byte is replaced by a new one once, like curl's retry; so is
// an HTTP/2 stream the server refused.
func (x *xfer) roundTrip(u *reqURL, method string, post bool, body []byte, auth *authState, authAllowed, authNeg bool) (*response, *pconn, *curlError) {
	p, cerr := x.r.tr.proxyFor(u)
	if cerr != nil {
		return nil, nil, cerr
	}
	fresh := x.r.fresh
	x.r.fresh = false
	for attempt := 0; ; attempt++ {
		if sent := x.r.sent; sent != nil {
			// The event loop wrote this request and handed the transfer over: only its
			// response is read here, retried like any other on a kept connection.
			x.r.sent = nil
			x.use(sent)
			x.setDeadline(sent)
			before := x.hc.total
			resp, cerr := sent.readHead(&x.hc, true)
			resp, pc, cerr, retry := x.attempted(sent, resp, cerr, before, attempt)
			if !retry {
				return resp, pc, cerr
			}
			fresh = sent.reused && !cerr.refused
			continue
		}
		pc, cerr := x.conn(u, p, fresh)
		if cerr != nil {
			return nil, nil, cerr
		}
		h := reqHead{
			method:      method,
			target:      u.target(),
			hostPort:    u.hostPort(),
			ua:          x.r.ua,
			custom:      x.r.headers,
			authAllowed: authAllowed,
			post:        post,
			bodyLen:     len(body),
			authNeg:     authNeg,
		}
		if pc.viaProxy {
			h.target = u.scheme + "://" + u.hostPort() + u.target()
			h.proxyConn = true
			if pc.proxy != nil && pc.proxy.hasCreds {
				h.proxyAuth = basicAuth(pc.proxy.user, pc.proxy.pass)
			}
		}
		if authAllowed {
			h.auth = auth.header(method, u.target())
		}
		if sig := x.r.sigv4; sig != nil && authAllowed {
			in := *sig
			in.Method, in.Hostname, in.HostPort, in.Now = method, u.hostname, u.hostPort(), time.Now().UTC()
			in.Path, in.Query, _ = strings.Cut(u.target(), "?")
			hdrs, err := SignSigV4(&in)
			if err != nil {
				x.keep(pc)
				return nil, nil, asCurlError(err)
			}
			if hdrs != nil {
				h.auth, h.authLine = hdrs.Authorization, hdrs.Date
			}
		}
		sendBody := body
		if !post || authNeg {
			sendBody = nil
		}
		h.expect = len(sendBody) > expect100Threshold && !hasCustomHeader(x.r.headers, "Expect")
		if cerr := h.check(); cerr != nil {
			x.keep(pc) // unused: it stays as good as it was
			return nil, nil, cerr
		}
		before := x.hc.total
		resp, cerr := x.exchange(pc, &h, sendBody)
		resp, pc, cerr, retry := x.attempted(pc, resp, cerr, before, attempt)
		if !retry {
			return resp, pc, cerr
		}
		// Another kept connection may have died the same way (the server closed them all),
		// unseen yet: the retry is on a new one (curl: "retrying a fresh connect").
		fresh = pc.reused && !cerr.refused
	}
}

// attempted ends one attempt of roundTrip on pc, whose header count was before: it
// keeps the connection of a response, or disposes of a failed one and says whether the
// request is to be tried again (a kept connection that had died, or a refused stream).
func (x *xfer) attempted(pc *pconn, resp *response, cerr *curlError, before, attempt int) (*response, *pconn, *curlError, bool) {
	if cerr == nil {
		x.keep(pc)
		if t := x.r.timings; t != nil && t.FirstByte == 0 {
			t.FirstByte = time.Since(x.r.timingsFrom)
		}
		return resp, pc, nil, false
	}
	died := pc.reused && retriable(cerr.code, pc.h2 != nil)
	retry := attempt == 0 && x.hc.total == before && (cerr.refused || died)
	x.failed(pc, cerr)
	return nil, pc, cerr, retry
}

// exchange writes the request and reads the final response head (1xx skipped).
func (x *xfer) exchange(pc *pconn, h *reqHead, body []byte) (*response, *curlError) {
	if pc.h2 != nil {
		return x.exchangeH2(pc, h, body)
	}
	bp := headPool.Get().(*[]byte)
	b := h.write((*bp)[:0])
	inline := !h.expect && len(body) <= 64<<10
	if inline {
		b = append(b, body...) // curl sends small bodies in the same send as the head
	}
	// The response cannot be there before the request is sent: wait for it before the
	// first read, which would otherwise fail with EAGAIN (one system call per response).
	var err error
	switch {
	case !inline || pc.fd == nil || pc.br == nil || pc.br.Buffered() > 0:
		_, err = pc.conn.Write(b)
	case pc.fd.direct: // level-triggered poll(2): also right for TLS over the socket
		if _, err = pc.conn.Write(b); err == nil {
			pc.fd.awaitReadable()
		}
	case pc.conn == net.Conn(pc.fd): // plain TCP in Go's poller
		var n int
		if n, err = pc.fd.writeAwait(b); err == nil && n < len(b) {
			_, err = pc.conn.Write(b[n:])
		}
	default:
		_, err = pc.conn.Write(b)
	}
	*bp = b[:0]
	headPool.Put(bp)
	if err != nil {
		return nil, newCurlError(classify(err, phaseSend, false), "sending request: "+errText(err))
	}
	if !inline && !h.expect && len(body) > 0 {
		if _, err := pc.conn.Write(body); err != nil {
			return nil, newCurlError(classify(err, phaseSend, false), "sending request body: "+errText(err))
		}
	}
	if h.expect {
		return x.expectContinue(pc, body)
	}
	return pc.readHead(&x.hc, true)
}

// expectContinue waits up to one second (curl's expect_100_timeout) for "100 Continue"
// before sending a large body; a final answer instead means the body is never sent.
func (x *xfer) expectContinue(pc *pconn, body []byte) (*response, *curlError) {
	wait := time.Now().Add(time.Second)
	if !x.deadline.IsZero() && x.deadline.Before(wait) {
		wait = x.deadline
	}
	_ = pc.conn.SetReadDeadline(wait)
	_, err := pc.br.Peek(1)
	_ = pc.conn.SetReadDeadline(x.deadline)
	if err != nil && !(isTimeout(err) && (x.deadline.IsZero() || time.Now().Before(x.deadline))) {
		return nil, newCurlError(classify(err, phaseRecvHead, false), "receiving response: "+errText(err))
	}
	if err == nil {
		resp, cerr := pc.readHead(&x.hc, false)
		if cerr != nil {
			return nil, cerr
		}
		if resp.status != 100 {
			if resp.status < 200 && resp.status != 101 {
				return pc.readHead(&x.hc, true)
			}
			resp.connClose = true // the body was not sent: the connection cannot be reused
			return resp, nil
		}
	}
	if _, err := pc.conn.Write(body); err != nil {
		return nil, newCurlError(classify(err, phaseSend, false), "sending request body: "+errText(err))
	}
	return pc.readHead(&x.hc, true)
}

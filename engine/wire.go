// This file owns the HTTP/1.1 wire format as libcurl 7.88 produces and accepts it: the
// request head with curl's own headers, the custom-header rules of CURLOPT_HTTPHEADER
// (checked on the first line of each entry, entries sent verbatim), the response head with
// curl's cumulative 300 KB header limit, and body framing (Content-Length, chunked, close).
// net/http cannot be used for this: it cannot send duplicate Host or Content-Type headers,
// adds Content-Length: 0 to body-less POSTs, and hides the raw header bytes.

package engine

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
)

// libcurl 7.88 limits.
const (
	maxRespHeaderTotal = 300 * 1024  // MAX_HTTP_RESP_HEADER_SIZE, cumulative over a transfer (7.88.1-10+deb12u*)
	maxHeaderLine      = 100 * 1024  // CURL_MAX_HTTP_HEADER: one header line
	expect100Threshold = 1024 * 1024 // EXPECT_100_THRESHOLD: "Expect: 100-continue" above this body size
)

// hasCustomHeader is curl's Curl_checkheaders: does any CURLOPT_HTTPHEADER entry start with
// "name:" or "name;"? Only an entry's first line is visible to this check.
func hasCustomHeader(entries []string, name string) bool {
	for _, e := range entries {
		if len(e) > len(name) && strings.EqualFold(e[:len(name)], name) && (e[len(name)] == ':' || e[len(name)] == ';') {
			return true
		}
	}
	return false
}

// customHeaderEntry returns the first CURLOPT_HTTPHEADER entry that starts with "name:".
func customHeaderEntry(entries []string, name string) (string, bool) {
	for _, e := range entries {
		if len(e) > len(name) && strings.EqualFold(e[:len(name)], name) && e[len(name)] == ':' {
			return e, true
		}
	}
	return "", false
}

// customHeaderToSend applies curl's Curl_add_custom_headers rules to one entry and returns
// what goes on the wire (without the final CRLF), or ok=false if it is not sent:
// no ':' anywhere means no header (a "Name;" entry sends "Name:"), and an empty value
// after the colon is a removal marker.
func customHeaderToSend(e string, authAllowed, authNeg bool) (string, bool) {
	colon := strings.IndexByte(e, ':')
	if colon < 0 {
		semi := strings.IndexByte(e, ';')
		if semi <= 0 || strings.TrimLeft(e[semi+1:], " \t\r\n") != "" {
			return "", false
		}
		return e[:semi] + ":", true
	}
	if colon == 0 {
		return "", false
	}
	if strings.TrimLeft(e[colon+1:], " \t\r\n\v\f") == "" {
		return "", false
	}
	if authNeg && hasPrefixFold(e, "Content-Length:") {
		return "", false
	}
	if !authAllowed && (hasPrefixFold(e, "Authorization:") || hasPrefixFold(e, "Cookie:")) {
		return "", false
	}
	return e, true
}

func hasPrefixFold(s, p string) bool { return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) }

// reqHead is what one request attempt writes.
type reqHead struct {
	method      string
	target      string // request target (origin- or absolute-form)
	hostPort    string
	auth        string // Authorization value or ""
	authLine    string // a line sent right after Authorization (SigV4's X-Amz-Date), or ""
	proxyAuth   string
	proxyConn   bool // Proxy-Connection: Keep-Alive (plain http via proxy)
	ua          OptString
	custom      []string
	authAllowed bool
	post        bool // curl's HTTPREQ_POST: Content-Length and the form default apply
	bodyLen     int
	authNeg     bool // Digest-only probe: POST with Content-Length 0 and no body
	expect      bool
}

var headPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// write appends the request head to b in curl 7.88's order.
func (h *reqHead) write(b []byte) []byte {
	b = append(b, h.method...)
	b = append(b, ' ')
	b = append(b, h.target...)
	b = append(b, " HTTP/1.1\r\n"...)
	// A custom Host takes the place of curl's own (Curl_http_host), except after a
	// redirect to another host; a bare "Host:" suppresses the header.
	if e, ok := customHeaderEntry(h.custom, "Host"); ok && h.authAllowed {
		if e != "Host:" {
			b = append(b, "Host:"...)
			b = append(b, e[5:]...)
			b = append(b, "\r\n"...)
		}
	} else {
		b = append(b, "Host: "...)
		b = append(b, h.hostPort...)
		b = append(b, "\r\n"...)
	}
	if h.proxyAuth != "" && !hasCustomHeader(h.custom, "Proxy-Authorization") {
		b = append(b, "Proxy-Authorization: "...)
		b = append(b, h.proxyAuth...)
		b = append(b, "\r\n"...)
	}
	if h.auth != "" && !hasCustomHeader(h.custom, "Authorization") {
		b = append(b, "Authorization: "...)
		b = append(b, h.auth...)
		b = append(b, "\r\n"...)
		if h.authLine != "" {
			b = append(b, h.authLine...)
			b = append(b, "\r\n"...)
		}
	}
	if h.ua.Set && h.ua.Value != "" && !hasCustomHeader(h.custom, "User-Agent") {
		b = append(b, "User-Agent: "...)
		b = append(b, h.ua.Value...)
		b = append(b, "\r\n"...)
	}
	if !hasCustomHeader(h.custom, "Accept") {
		b = append(b, "Accept: */*\r\n"...)
	}
	if h.proxyConn && !hasCustomHeader(h.custom, "Proxy-Connection") {
		b = append(b, "Proxy-Connection: Keep-Alive\r\n"...)
	}
	for _, e := range h.custom {
		if hasPrefixFold(e, "Host:") {
			continue // already placed (or replaced by curl's own Host)
		}
		if s, ok := customHeaderToSend(e, h.authAllowed, h.authNeg); ok {
			b = append(b, s...)
			b = append(b, "\r\n"...)
		}
	}
	if h.post {
		n := h.bodyLen
		if h.authNeg {
			n = 0
		}
		if !hasCustomHeader(h.custom, "Content-Length") || h.authNeg {
			b = append(b, "Content-Length: "...)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, "\r\n"...)
		}
		if !hasCustomHeader(h.custom, "Content-Type") {
			b = append(b, "Content-Type: application/x-www-form-urlencoded\r\n"...)
		}
		if h.expect {
			b = append(b, "Expect: 100-continue\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

// headerCounter is curl's cumulative response-header byte count for one transfer
// (including followed redirects and auth round trips).
type headerCounter struct{ total int }

// response is a parsed response head.
type response struct {
	status        int
	proto         string // "HTTP/1.1", "HTTP/1.0", "HTTP/2"
	header        []byte // raw header lines of this response, CRLF-terminated, no status line
	contentType   string
	hasCT         bool
	location      string
	wwwAuth       []string
	contentLength int64 // -1: unknown
	chunked       bool
	connClose     bool
	keepAlive     bool
	minor         int
	h2            *h2Stream // HTTP/2: the response stream, open until readBody
}

// readLine reads one line (with its LF) of at most maxHeaderLine bytes.
func readLine(br *bufio.Reader, scratch []byte) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == nil || err != bufio.ErrBufferFull {
		return line, err
	}
	scratch = append(scratch[:0], line...)
	for {
		line, err = br.ReadSlice('\n')
		scratch = append(scratch, line...)
		if len(scratch) > maxHeaderLine {
			return nil, newCurlError(curlOutOfMemory, "rejected "+strconv.Itoa(len(scratch))+" bytes header line")
		}
		if err != bufio.ErrBufferFull {
			return scratch, err
		}
	}
}

// readHead reads a response head. With interim, 1xx responses (other than 101) are
// skipped like curl does. Nothing received at all gives 52.
func (pc *pconn) readHead(hc *headerCounter, interim bool) (*response, *curlError) {
	var scratch []byte
	room := func() int { return headSize(pc.br) }
	for {
		var h headLines
		for {
			line, err := readLine(pc.br, scratch)
			if err != nil {
				var ce *curlError
				if errors.As(err, &ce) {
					return nil, ce
				}
				if h.resp == nil {
					if (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && !isTimeout(err) {
						return nil, newCurlError(curlGotNothing, "empty reply from server")
					}
					return nil, newCurlError(classify(err, phaseRecvHead, false), "receiving response: "+errText(err))
				}
				if errors.Is(err, io.EOF) {
					// The peer closed inside the head: curl ends the transfer with what it got.
					h.resp.connClose = true
					break
				}
				return nil, newCurlError(classify(err, phaseRecvBody, false), "receiving response headers: "+errText(err))
			}
			end, cerr := h.add(line, hc, room)
			if cerr != nil {
				return nil, cerr
			}
			if end {
				break
			}
		}
		if interim && h.resp.status >= 100 && h.resp.status < 200 && h.resp.status != 101 {
			continue
		}
		return h.resp, nil
	}
}

// parseHead parses head, a whole response head up to and with its empty line, held in
// memory (the background loop's): the lines readHead would read, without a reader. The
// response is built in dst, and its header block in buf when buf has the room.
func parseHead(head []byte, dst *response, buf []byte) *curlError {
	h := headLines{dst: dst, buf: buf}
	var hc headerCounter
	rest := head
	room := func() int { return len(rest) }
	for {
		n := bytes.IndexByte(rest, '\n') + 1
		if n == 0 {
			break // a line without its end: the head is not whole
		}
		line := rest[:n]
		rest = rest[n:]
		end, cerr := h.add(line, &hc, room)
		if cerr != nil {
			return cerr
		}
		if end {
			return nil
		}
	}
	return newCurlError(curlWeirdServerReply, "incomplete response head")
}

// headLines builds a response from the lines of its head, one at a time.
type headLines struct {
	resp *response // nil until the status line
	dst  *response // where the response is built; nil: a new one
	buf  []byte    // memory for the header block, if it has the room; nil: made to measure
}

// add takes one line, with its line end. It reports whether the line ended the head;
// room tells how much of the head follows the line: with the first field, that is the
// header block's size, so that it is allocated once.
func (h *headLines) add(line []byte, hc *headerCounter, room func() int) (bool, *curlError) {
	hc.total += len(line)
	if hc.total > maxRespHeaderTotal {
		return false, newCurlError(curlRecvError, "too large response headers: "+strconv.Itoa(hc.total)+" > "+strconv.Itoa(maxRespHeaderTotal))
	}
	if h.resp == nil {
		if h.resp = h.dst; h.resp == nil {
			h.resp = new(response)
		}
		*h.resp = response{contentLength: -1}
		return false, h.resp.parseStatus(line)
	}
	if len(line) <= 2 && (len(line) == 1 || line[0] == '\r') {
		return true, nil
	}
	r := h.resp
	if r.header == nil {
		if n := len(line) + room(); cap(h.buf) >= n {
			r.header = h.buf[:0]
		} else {
			r.header = make([]byte, 0, n)
		}
	}
	r.header = append(r.header, trimLineEnd(line)...)
	r.header = append(r.header, '\r', '\n')
	r.parseField(line)
	return false, nil
}

// trimLineEnd is bytes.TrimRight(line, "\r\n") without building a cutset per call.
func trimLineEnd(line []byte) []byte {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line
}

// headSize is the size of the rest of a head, after the line just read: usually the
// whole head has arrived with its first line, and its end is in the reader's buffer (the
// body after it is not counted: a background result keeps its header block until it is
// polled).
func headSize(br *bufio.Reader) int {
	buf, _ := br.Peek(br.Buffered())
	if bytes.HasPrefix(buf, []byte("\r\n")) { // the line was the last field
		return 0
	}
	if end := bytes.Index(buf, []byte("\r\n\r\n")); end >= 0 {
		buf = buf[:end+2]
	}
	return max(len(buf), 64)
}

func (r *response) parseStatus(line []byte) *curlError {
	s := strings.TrimRight(string(line), "\r\n")
	if !strings.HasPrefix(s, "HTTP/") {
		return newCurlError(curlUnsupportedProto, "received HTTP/0.9 when not allowed")
	}
	ver, rest, _ := strings.Cut(s[5:], " ")
	switch ver {
	case "1.1":
		r.proto, r.minor = "HTTP/1.1", 1
	case "1.0":
		r.proto, r.minor = "HTTP/1.0", 0
	default:
		return newCurlError(curlUnsupportedProto, "unsupported HTTP version in response")
	}
	rest = strings.TrimLeft(rest, " ")
	if len(rest) < 3 || !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) || (len(rest) > 3 && rest[3] != ' ') {
		return newCurlError(curlWeirdServerReply, "invalid status line")
	}
	r.status = int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
	return nil
}

// parseField records the fields hc acts on. Values are trimmed like curl's
// Curl_copy_header_value; only the values kept become strings.
func (r *response) parseField(line []byte) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return
	}
	name := line[:colon]
	val := bytes.TrimSpace(line[colon+1:])
	switch {
	case fieldNameIs(name, "Content-Type"):
		r.contentType, r.hasCT = string(val), true
	case fieldNameIs(name, "Content-Length"):
		// string(val) does not escape ParseInt (its errors copy it): no allocation.
		if n, err := strconv.ParseInt(string(val), 10, 64); err == nil && n >= 0 {
			r.contentLength = n
		}
	case fieldNameIs(name, "Transfer-Encoding"):
		for te := range bytes.SplitSeq(val, []byte(",")) {
			if bytes.EqualFold(bytes.TrimSpace(te), []byte("chunked")) {
				r.chunked = true
			}
		}
	case fieldNameIs(name, "Connection"), fieldNameIs(name, "Proxy-Connection"):
		for tok := range bytes.SplitSeq(val, []byte(",")) {
			tok = bytes.TrimSpace(tok)
			if bytes.EqualFold(tok, []byte("close")) {
				r.connClose = true
			} else if bytes.EqualFold(tok, []byte("keep-alive")) {
				r.keepAlive = true
			}
		}
	case fieldNameIs(name, "Location"):
		if r.location == "" {
			r.location = string(val)
		}
	case fieldNameIs(name, "WWW-Authenticate"):
		r.wwwAuth = append(r.wwwAuth, string(val))
	}
}

func fieldNameIs(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i]|0x20 != s[i]|0x20 {
			return false
		}
	}
	return true
}

// bodyless reports whether a response to method carries no body by definition.
func (r *response) bodyless() bool {
	return r.status < 200 || r.status == 204 || r.status == 304
}

// reusable reports whether the connection may carry another request after this response
// (its body having been read completely).
func (r *response) reusable() bool {
	if r.h2 != nil {
		return !r.connClose // set by readBodyH2 from the HTTP/2 connection's state
	}
	if r.connClose {
		return false
	}
	if !r.chunked && r.contentLength < 0 && !r.bodyless() {
		return false // delimited by close
	}
	if r.minor == 0 {
		return r.keepAlive
	}
	return true
}

// bodySink stores the response body by Kamailio's rules while the transfer reads all of it.
type bodySink struct {
	keep    bool
	max     int  // 0: no limit
	oneline bool // keep until the first LF (query_result=1)
	buf     []byte
	sawLF   bool
	total   int64 // bytes received (download size)
	limit   int64 // CURLOPT_MAXFILESIZE; 0: none
	ceiling int64 // the library's max_body_size for a kept body; 0: none
	tooBig  bool  // the kept body would have passed ceiling

	alloc    BodyAllocator // where a large body of known length goes; nil: Go memory
	external bool          // buf is alloc's memory (the Result then owns it)
}

// over reports whether the body has grown past max_file_size or max_body_size.
func (s *bodySink) over() bool { return s.tooBig || s.limit > 0 && s.total > s.limit }

// overError is curl's write-callback abort (23), which Halon's max_file_size check causes
// when a body without Content-Length grows past the limit, and Kamailio's when its pkg
// memory runs out.
func (s *bodySink) overError() *curlError {
	if s.tooBig {
		return newCurlError(curlWriteError, "body larger than max_body_size ("+strconv.FormatInt(s.ceiling, 10)+" bytes)")
	}
	return newCurlError(curlWriteError, "body larger than max_file_size")
}

func (s *bodySink) write(p []byte) {
	s.total += int64(len(p))
	if !s.keep || len(p) == 0 {
		return
	}
	if s.ceiling > 0 && int64(len(s.buf))+int64(len(p)) > s.ceiling {
		s.tooBig = true
		return
	}
	switch {
	case s.oneline:
		if s.sawLF {
			return
		}
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			s.buf = append(s.buf, p[:i+1]...)
			s.sawLF = true
			return
		}
		s.buf = append(s.buf, p...)
	case s.max > 0:
		if room := s.max - len(s.buf); room > 0 {
			if len(p) > room {
				p = p[:room]
			}
			s.buf = append(s.buf, p...)
		}
	default:
		s.buf = append(s.buf, p...)
	}
}

// presize gives a kept body of known length n its buffer before it is read: n bytes of
// allocator memory for a large one, a Go buffer of exactly n otherwise. It reports
// whether the whole body fits (then it can be read in place). A body above
// max_body_size gets none: its writes stop it at the limit.
func (s *bodySink) presize(n int64) bool {
	if !s.keep || s.max != 0 || s.oneline || cap(s.buf) != 0 || s.ceiling > 0 && n > s.ceiling {
		return false
	}
	size := min(n, 64<<20) // do not trust a huge Content-Length for the first allocation
	if s.alloc != nil && size == n && n >= minExternalBody {
		if b := s.alloc.Alloc(int(n)); b != nil {
			s.buf, s.external = b[:0], true
		}
	}
	if !s.external {
		s.buf = make([]byte, 0, size)
	}
	return int64(cap(s.buf)) >= n
}

// readBody reads the body framed by resp into sink.
func (pc *pconn) readBody(resp *response, sink *bodySink) *curlError {
	if resp.h2 != nil {
		return pc.readBodyH2(resp, sink)
	}
	if resp.bodyless() {
		return nil
	}
	switch {
	case resp.chunked:
		return pc.readChunked(sink)
	case resp.contentLength >= 0:
		if sink.presize(resp.contentLength) {
			return pc.readInto(resp.contentLength, sink)
		}
		return pc.copyN(resp.contentLength, sink)
	default:
		for {
			p, err := pc.readSome(1 << 62)
			sink.write(p)
			if sink.over() {
				return sink.overError()
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return newCurlError(classify(err, phaseRecvBody, false), "receiving body: "+errText(err))
			}
		}
	}
}

// readSome returns up to limit of the next buffered bytes of the connection (valid until
// the next read), reading from the socket only when nothing is buffered.
func (pc *pconn) readSome(limit int64) ([]byte, error) {
	if pc.br.Buffered() == 0 {
		if _, err := pc.br.Peek(1); err != nil {
			return nil, err
		}
	}
	n := pc.br.Buffered()
	if int64(n) > limit {
		n = int(limit)
	}
	p, _ := pc.br.Peek(n)
	_, _ = pc.br.Discard(n)
	return p, nil
}

// readInto reads exactly n body bytes, which the whole body is, straight into the free
// capacity of sink.buf: first what the connection's reader holds, then from the
// connection itself, with reads as large as the rest (no copy through the reader's
// buffer, and a few large reads instead of many small ones).
func (pc *pconn) readInto(n int64, sink *bodySink) *curlError {
	start := len(sink.buf)
	dst := sink.buf[start : start+int(n)]
	got := 0
	if k := pc.br.Buffered(); k > 0 {
		p, _ := pc.br.Peek(min(k, len(dst)))
		got = copy(dst, p)
		_, _ = pc.br.Discard(got)
	}
	// Wake up for the rest only when a good part of it is there (never more than what is
	// left: TLS adds bytes, never removes them, so the socket sees at least that much).
	lowat := 0
	defer func() {
		if lowat > 0 {
			pc.fd.setRcvLowat(1)
		}
	}()
	for got < len(dst) {
		if pc.fd != nil {
			want := min(len(dst)-got, rcvLowatMax)
			if want < rcvLowatMin {
				want = 1
			}
			if want != max(lowat, 1) && (lowat > 0 || want > 1) {
				pc.fd.setRcvLowat(want)
				lowat = want
			}
		}
		m, err := pc.conn.Read(dst[got:])
		got += m
		if err != nil && got < len(dst) {
			sink.buf, sink.total = sink.buf[:start+got], sink.total+int64(got)
			if errors.Is(err, io.EOF) {
				return newCurlError(curlPartialFile, "transfer closed with "+strconv.Itoa(len(dst)-got)+" bytes remaining to read")
			}
			return newCurlError(classify(err, phaseRecvBody, false), "receiving body: "+errText(err))
		}
	}
	sink.buf, sink.total = sink.buf[:start+got], sink.total+int64(got)
	if sink.over() {
		return sink.overError()
	}
	return nil
}

// The SO_RCVLOWAT range used by readInto: below the minimum, one more wake-up costs less
// than the setsockopt calls.
const (
	rcvLowatMin = 64 << 10
	rcvLowatMax = 256 << 10
)

// copyN moves exactly n body bytes into sink.
func (pc *pconn) copyN(n int64, sink *bodySink) *curlError {
	for n > 0 {
		p, err := pc.readSome(n)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return newCurlError(curlPartialFile, "transfer closed with "+strconv.FormatInt(n, 10)+" bytes remaining to read")
			}
			return newCurlError(classify(err, phaseRecvBody, false), "receiving body: "+errText(err))
		}
		sink.write(p)
		if sink.over() {
			return sink.overError()
		}
		n -= int64(len(p))
	}
	return nil
}

func (pc *pconn) readChunked(sink *bodySink) *curlError {
	var scratch []byte
	for {
		line, err := readLine(pc.br, scratch)
		if err != nil {
			return chunkErr(err)
		}
		s := strings.TrimRight(string(line), "\r\n")
		if i := strings.IndexByte(s, ';'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
		size, perr := strconv.ParseUint(s, 16, 63)
		if perr != nil || s == "" {
			return newCurlError(curlRecvError, "problem in the chunked-encoded data")
		}
		if size == 0 {
			// trailers until the empty line
			for {
				line, err := readLine(pc.br, scratch)
				if err != nil {
					return chunkErr(err)
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if cerr := pc.copyN(int64(size), sink); cerr != nil {
			if cerr.code == curlPartialFile {
				cerr.msg = "transfer closed with outstanding read data remaining"
			}
			return cerr
		}
		line, err = readLine(pc.br, scratch)
		if err != nil {
			return chunkErr(err)
		}
		if len(bytes.TrimRight(line, "\r\n")) != 0 {
			return newCurlError(curlRecvError, "problem in the chunked-encoded data")
		}
	}
}

func chunkErr(err error) *curlError {
	var ce *curlError
	if errors.As(err, &ce) {
		return ce
	}
	if errors.Is(err, io.EOF) {
		return newCurlError(curlPartialFile, "transfer closed with outstanding read data remaining")
	}
	return newCurlError(classify(err, phaseRecvBody, false), "receiving body: "+errText(err))
}

// This file owns multipart/form-data bodies exactly as libcurl 7.88.1's lib/mime.c writes
// them for a CURLOPT_MIMEPOST built the way Halon's http-background plugin builds it
// (curl_mime_name, curl_mime_data or curl_mime_data_cb, curl_mime_type,
// curl_mime_filename, curl_mime_encoder): the boundary, the part headers and their
// order, the Content-Type guessed from a filename extension, the name/filename escaping,
// curl's five encoders, the closing boundary, and the total length, which hc always
// knows up front (curl sends a quoted-printable body chunked; hc computes its length).
// File parts are read when the body is opened, at transfer time.

package engine

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
)

// mimeReadError is CURLE_READ_ERROR (26, "Failed to open/read local data from
// file/application"): what curl reports when a part's content cannot be read or fails
// the 7bit check.
const mimeReadError = 26

// mimeBoundaryDashes and mimeBoundaryHex make curl 7.88's boundary: 24 dashes and 16
// random lowercase hex digits (MIME_BOUNDARY_DASHES, MIME_RAND_BOUNDARY_CHARS).
const (
	mimeBoundaryDashes = 24
	mimeBoundaryHex    = 16
	mimeBoundaryLen    = mimeBoundaryDashes + mimeBoundaryHex
)

// mimeMaxLine is MAX_ENCODED_LINE_LENGTH, the line limit of the base64 and
// quoted-printable encoders.
const mimeMaxLine = 76

// mimeEncoders are curl's encoder names, in the order of its table.
var mimeEncoders = [...]string{"binary", "8bit", "7bit", "base64", "quoted-printable"}

// MimeEncoderName is curl_mime_encoder's lookup: the canonical (lowercase) name of a
// curl encoder, matched case-insensitively, and false for a name curl does not know
// (curl then leaves the part without an encoder).
func MimeEncoderName(s string) (string, bool) {
	for _, e := range mimeEncoders {
		if strings.EqualFold(s, e) {
			return e, true
		}
	}
	return "", false
}

// MimePart is one part of a multipart body. Strings that curl receives as C strings
// (name, filename, type) must already be cut at their first NUL.
type MimePart struct {
	// Name is curl_mime_name's value, sent when HasName (an empty name is sent as
	// name=""). A part of a form given as a list has no name.
	Name    string
	HasName bool
	// Filename is curl_mime_filename's value, sent when HasFilename. When Type is not
	// set, curl guesses the part's Content-Type from its extension.
	Filename    string
	HasFilename bool
	// Type is curl_mime_type's value, sent verbatim as the part's Content-Type when
	// HasType (an empty type gives "Content-Type: " with nothing after it).
	Type    string
	HasType bool
	// Encoder is the canonical name of the part's curl encoder (see MimeEncoderName),
	// or "" for none. It adds a Content-Transfer-Encoding header.
	Encoder string
	// Data is the content when File is "" (binary-safe).
	Data []byte
	// File, when not "", is a file whose content is read when the body is opened
	// (Halon's File field: curl_mime_data_cb with the size taken then). Such a part has
	// no implicit filename.
	File string
}

// Multipart is a multipart/form-data body (Halon's array post).
type Multipart struct {
	// Boundary is the 40-character boundary without the leading "--".
	Boundary string
	// Parts are the parts in order.
	Parts []MimePart
}

// NewMultipart returns an empty multipart body with a fresh random boundary.
func NewMultipart() (*Multipart, error) {
	var r [mimeBoundaryHex / 2]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, err
	}
	return &Multipart{Boundary: strings.Repeat("-", mimeBoundaryDashes) + hex.EncodeToString(r[:])}, nil
}

// mimeTopType is the content type curl gives the top-level part of a CURLOPT_MIMEPOST,
// from the request's custom headers (Curl_http_body then Curl_mime_prepare_headers):
// the value of the first "Content-Type:" entry (spaces after the colon skipped), else
// the rest of the first "Content-Type:" or "Content-Type;" entry after its 13th
// character, else "multipart/form-data".
func mimeTopType(custom []string) string {
	for _, e := range custom {
		if len(e) > 12 && strings.EqualFold(e[:12], "Content-Type") && e[12] == ':' {
			return strings.TrimLeft(e[13:], " ")
		}
	}
	for _, e := range custom {
		if len(e) > 12 && strings.EqualFold(e[:12], "Content-Type") && e[12] == ';' {
			return strings.TrimLeft(e[13:], " ")
		}
	}
	return "multipart/form-data"
}

// ContentType is the value of the Content-Type header curl sends for this body, given
// the request's custom headers: "multipart/form-data; boundary=…", or a user
// "Content-Type:" value with "; boundary=…" appended. curl sends it after Content-Length
// and does not send the user's own Content-Type entry for a multipart post.
func (m *Multipart) ContentType(custom []string) string {
	return mimeTopType(custom) + "; boundary=" + m.Boundary
}

// mimeTypeMatch is curl's content_type_match: ct starts with target (any case) followed
// by the end, a blank, CR, LF or ';'.
func mimeTypeMatch(ct, target string) bool {
	if len(ct) < len(target) || !strings.EqualFold(ct[:len(target)], target) {
		return false
	}
	if len(ct) == len(target) {
		return true
	}
	switch ct[len(target)] {
	case '\t', '\r', '\n', ' ', ';':
		return true
	}
	return false
}

// mimeContentTypes is curl's Curl_mime_contenttype table, searched in order.
var mimeContentTypes = [...][2]string{
	{".gif", "image/gif"},
	{".jpg", "image/jpeg"},
	{".jpeg", "image/jpeg"},
	{".png", "image/png"},
	{".svg", "image/svg+xml"},
	{".txt", "text/plain"},
	{".htm", "text/html"},
	{".html", "text/html"},
	{".pdf", "application/pdf"},
	{".xml", "application/xml"},
}

// MimeContentTypeFor is curl's Curl_mime_contenttype: the type of the first known
// extension that ends filename (any case), or "".
func MimeContentTypeFor(filename string) string {
	for _, ct := range mimeContentTypes {
		ext := ct[0]
		if len(filename) >= len(ext) && strings.EqualFold(filename[len(filename)-len(ext):], ext) {
			return ct[1]
		}
	}
	return ""
}

// mimeEscape is curl 7.88's escape_string for form data (WHATWG): '"' becomes %22, CR
// %0D and LF %0A; nothing else is escaped.
func mimeEscape(s string) string {
	if !strings.ContainsAny(s, "\"\r\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			b.WriteString("%22")
		case '\r':
			b.WriteString("%0D")
		case '\n':
			b.WriteString("%0A")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// header is the part's header block as Curl_mime_prepare_headers makes it for a data or
// callback part: Content-Disposition, Content-Type, Content-Transfer-Encoding, each
// with CRLF, then the empty line. formData says whether the top-level type is
// multipart/form-data (disposition "form-data"); otherwise curl's default disposition
// "attachment" is used, and only for a part with a name or a filename.
func (p *MimePart) header(formData bool) []byte {
	var b []byte
	ct, hasCT := p.Type, p.HasType
	if !hasCT && p.HasFilename {
		if g := MimeContentTypeFor(p.Filename); g != "" {
			ct, hasCT = g, true
		}
	}
	disp := ""
	if formData {
		disp = "form-data"
	} else if p.HasFilename || p.HasName || (hasCT && !bgHasPrefixFold(ct, "multipart/")) {
		disp = "attachment"
	}
	if disp == "attachment" && !p.HasName && !p.HasFilename {
		disp = ""
	}
	if disp != "" {
		b = append(b, "Content-Disposition: "...)
		b = append(b, disp...)
		if p.HasName {
			b = append(b, "; name=\""...)
			b = append(b, mimeEscape(p.Name)...)
			b = append(b, '"')
		}
		if p.HasFilename {
			b = append(b, "; filename=\""...)
			b = append(b, mimeEscape(p.Filename)...)
			b = append(b, '"')
		}
		b = append(b, "\r\n"...)
	}
	if hasCT {
		b = append(b, "Content-Type: "...)
		b = append(b, ct...)
		b = append(b, "\r\n"...)
	}
	if p.Encoder != "" {
		b = append(b, "Content-Transfer-Encoding: "...)
		b = append(b, p.Encoder...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// BodyReader is one pass over a request body, opened at transfer time. Read delivers
// exactly Len bytes, or fails with a *curlError (code 26) when a file cannot be read
// as it was measured, or when a 7bit part holds a byte above 127 (curl sends the bytes
// before it, then fails). A body can be opened again for a redirect or an auth retry.
type BodyReader struct {
	// Len is the exact body length (Content-Length).
	Len int64
	// ContentType is, for a multipart body, the Content-Type header value (see
	// Multipart.ContentType); "" for other bodies.
	ContentType string

	r       io.Reader
	closers []io.Closer
}

// Read reads the body.
func (b *BodyReader) Read(p []byte) (int, error) { return b.r.Read(p) }

// Close closes the files the body reads.
func (b *BodyReader) Close() error {
	var first error
	for _, c := range b.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	b.closers = nil
	return first
}

// mimeReadErr is the error of a body that cannot be read.
func mimeReadErr(msg string) *curlError { return newCurlError(mimeReadError, msg) }

// Open opens the body for one transfer with the request's custom headers (they decide
// the top-level content type and thereby the parts' disposition): it opens the parts'
// files and measures them, so that Len is known before anything is sent.
func (m *Multipart) Open(custom []string) (*BodyReader, error) {
	top := mimeTopType(custom)
	formData := mimeTypeMatch(top, "multipart/form-data")
	br := &BodyReader{ContentType: top + "; boundary=" + m.Boundary}
	var segs []io.Reader
	var n int64
	static := func(b []byte) {
		segs = append(segs, bytes.NewReader(b))
		n += int64(len(b))
	}
	for i := range m.Parts {
		p := &m.Parts[i]
		lead := "\r\n--"
		if i == 0 {
			lead = "--" // the first boundary follows the request head: no CRLF
		}
		static([]byte(lead + m.Boundary + "\r\n"))
		static(p.header(formData))
		r, size, closer, err := p.content()
		if err != nil {
			_ = br.Close()
			return nil, err
		}
		if closer != nil {
			br.closers = append(br.closers, closer)
		}
		segs = append(segs, r)
		n += size
	}
	if len(m.Parts) == 0 {
		static([]byte("--" + m.Boundary + "--\r\n"))
	} else {
		static([]byte("\r\n--" + m.Boundary + "--\r\n"))
	}
	br.Len = n
	br.r = io.MultiReader(segs...)
	return br, nil
}

// Render opens the body and reads it whole (tests, small bodies).
func (m *Multipart) Render(custom []string) ([]byte, string, error) {
	br, err := m.Open(custom)
	if err != nil {
		return nil, "", err
	}
	defer br.Close()
	b := make([]byte, 0, br.Len)
	buf := bytes.NewBuffer(b)
	if _, err := io.Copy(buf, br); err != nil {
		return buf.Bytes(), br.ContentType, err
	}
	return buf.Bytes(), br.ContentType, nil
}

// content is the part's encoded content: a reader, its exact length, and what to close.
func (p *MimePart) content() (io.Reader, int64, io.Closer, error) {
	if p.File == "" {
		enc, err := mimeEncode(p.Encoder, p.Data)
		r := io.Reader(bytes.NewReader(enc))
		n := int64(len(enc))
		if err != nil {
			// 7bit: the valid prefix goes out, then the transfer fails.
			r = io.MultiReader(r, mimeErrReader{err})
			n = int64(len(p.Data))
		}
		return r, n, nil, nil
	}
	f, size, regular, err := mimeOpenFile(p.File)
	if err != nil {
		return nil, 0, nil, err
	}
	if !regular || p.Encoder == "quoted-printable" {
		// unknown size, or an encoding whose size needs the data: read it now
		data, err := mimeReadAll(f, size, regular)
		_ = f.Close()
		if err != nil {
			return nil, 0, nil, err
		}
		q := *p
		q.File, q.Data = "", data
		r, n, _, err := q.content()
		return r, n, nil, err
	}
	src := io.Reader(&mimeExactReader{r: bufio.NewReaderSize(f, 32*1024), left: size})
	switch p.Encoder {
	case "base64":
		return newMimeBase64Lines(src, 57, "\r\n", false), mimeBase64Len(size), f, nil
	case "7bit":
		return &mime7bitReader{r: src}, size, f, nil
	}
	return src, size, f, nil
}

// mimeOpenFile opens a body file for reading and reports its size and whether it is a
// regular file (whose size is then known from stat).
func mimeOpenFile(path string) (*os.File, int64, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, false, mimeReadErr("cannot open " + path + ": " + err.Error())
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, false, mimeReadErr("cannot stat " + path + ": " + err.Error())
	}
	if st.IsDir() {
		_ = f.Close()
		return nil, 0, false, mimeReadErr(path + " is a directory")
	}
	return f, st.Size(), st.Mode().IsRegular(), nil
}

// mimeReadAll reads a whole body file (exactly size bytes of a regular file).
func mimeReadAll(f *os.File, size int64, regular bool) ([]byte, error) {
	if regular {
		data := make([]byte, size)
		if _, err := io.ReadFull(f, data); err != nil {
			return nil, mimeReadErr("short read of " + f.Name())
		}
		return data, nil
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, mimeReadErr("cannot read " + f.Name() + ": " + err.Error())
	}
	return data, nil
}

// mimeEncode encodes data with a curl encoder. For 7bit it returns the bytes before the
// first byte above 127 and the read error curl reports there.
func mimeEncode(encoder string, data []byte) ([]byte, error) {
	switch encoder {
	case "base64":
		var buf bytes.Buffer
		_, _ = io.Copy(&buf, newMimeBase64Lines(bytes.NewReader(data), 57, "\r\n", false))
		return buf.Bytes(), nil
	case "quoted-printable":
		return mimeQP(data), nil
	case "7bit":
		for i, c := range data {
			if c&0x80 != 0 {
				return data[:i], mimeReadErr("7bit encoder: byte above 127")
			}
		}
	}
	return data, nil
}

// mimeBase64Len is encoder_base64_size: 4 characters per started group of 3 bytes, plus
// a CRLF between lines of 76 characters.
func mimeBase64Len(n int64) int64 {
	if n <= 0 {
		return 0
	}
	enc := 4 * (1 + (n-1)/3)
	return enc + 2*((enc-1)/mimeMaxLine)
}

// evpBase64Len is the length of OpenSSL's EVP_EncodeUpdate/EVP_EncodeFinal output: 64
// characters per 48 input bytes, every line (the last included) ended by LF.
func evpBase64Len(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return 4*((n+2)/3) + (n+47)/48
}

// mimeQPClass is curl's quoted-printable character class table.
const (
	mimeQPOK = 1 // represented by itself
	mimeQPSP = 2 // space or tab
	mimeQPCR = 3
	mimeQPLF = 4
)

func mimeQPClass(c byte) int {
	switch {
	case c == ' ' || c == '\t':
		return mimeQPSP
	case c == '\r':
		return mimeQPCR
	case c == '\n':
		return mimeQPLF
	case c >= 0x21 && c <= 0x7e && c != '=':
		return mimeQPOK
	}
	return 0
}

// mimeQP is curl 7.88's encoder_qp_read run over the whole data (which is what its
// streaming produces): CRLF pairs are kept as line ends, a space or tab before a CRLF
// or at the end of the data is escaped, every byte outside 0x21..0x7e (and '=') is
// escaped as =XX with uppercase hex (a lone CR or LF too), and lines are cut with a
// soft break "=\r\n" so that they stay within 76 characters; a line may reach 76 only
// when a CRLF or the end of the data follows.
func mimeQP(src []byte) []byte {
	const hexdigits = "0123456789ABCDEF"
	n := len(src)
	eolAt := func(at int) bool { // qp_lookahead_eol at the end of the data
		if at >= n {
			return true
		}
		if at+2 > n {
			return false
		}
		return src[at] == '\r' && src[at+1] == '\n'
	}
	out := make([]byte, 0, n+n/4)
	pos := 0
	for i := 0; i < n; {
		c := src[i]
		buf := [3]byte{c, hexdigits[c>>4], hexdigits[c&0xf]}
		l, consumed := 1, 1
		switch mimeQPClass(c) {
		case mimeQPOK:
		case mimeQPSP:
			if eolAt(i + 1) {
				buf[0], l = '=', 3
			}
		case mimeQPCR:
			if eolAt(i) {
				buf[1], l, consumed = '\n', 2, 2
			} else {
				buf[0], l = '=', 3
			}
		default:
			buf[0], l = '=', 3
		}
		if buf[l-1] != '\n' {
			soft := pos+l > mimeMaxLine
			if !soft && pos+l == mimeMaxLine && !eolAt(i+consumed) {
				soft = true
			}
			if soft {
				buf, l, consumed = [3]byte{'=', '\r', '\n'}, 3, 0
			}
		}
		out = append(out, buf[:l]...)
		pos += l
		if buf[l-1] == '\n' {
			pos = 0
		}
		i += consumed
	}
	return out
}

// mimeBase64Lines encodes a stream as base64 in lines of lineIn input bytes: curl's mime
// encoder (57 bytes = 76 characters, CRLF between lines) or OpenSSL's EVP encoder (48
// bytes = 64 characters, LF after every line).
type mimeBase64Lines struct {
	src      io.Reader
	lineIn   int
	eol      string
	trailing bool // eol after the last line too
	in       []byte
	out      []byte
	lines    int
	err      error
}

func newMimeBase64Lines(src io.Reader, lineIn int, eol string, trailing bool) *mimeBase64Lines {
	return &mimeBase64Lines{src: src, lineIn: lineIn, eol: eol, trailing: trailing, in: make([]byte, lineIn)}
}

func (b *mimeBase64Lines) Read(p []byte) (int, error) {
	for len(b.out) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		n, err := io.ReadFull(b.src, b.in)
		if n > 0 {
			if !b.trailing && b.lines > 0 {
				b.out = append(b.out, b.eol...)
			}
			b.out = base64.StdEncoding.AppendEncode(b.out, b.in[:n])
			if b.trailing {
				b.out = append(b.out, b.eol...)
			}
			b.lines++
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			b.err = err
		}
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	if len(b.out) == 0 {
		b.out = b.out[:0:cap(b.out)]
	}
	return n, nil
}

// mimeExactReader delivers exactly left bytes of r: it stops there even if the file grew,
// and fails with curl's read error if the file ends sooner.
type mimeExactReader struct {
	r    io.Reader
	left int64
}

func (e *mimeExactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err != nil && e.left > 0 {
		if errors.Is(err, io.EOF) {
			return n, mimeReadErr("body file shorter than when it was measured")
		}
		return n, mimeReadErr("cannot read body file: " + err.Error())
	}
	if e.left == 0 {
		return n, io.EOF
	}
	return n, nil
}

// mime7bitReader is curl's 7bit encoder on a stream: the bytes before the first byte
// above 127, then the read error.
type mime7bitReader struct {
	r   io.Reader
	err error
}

func (s *mime7bitReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	for i, c := range p[:n] {
		if c&0x80 != 0 {
			s.err = mimeReadErr("7bit encoder: byte above 127")
			if i == 0 {
				return 0, s.err
			}
			return i, nil
		}
	}
	return n, err
}

// mimeErrReader fails with err.
type mimeErrReader struct{ err error }

func (e mimeErrReader) Read([]byte) (int, error) { return 0, e.err }

// This file owns the request model of background requests: Halon http-background's
// arguments (url, options, post) checked synchronously in the plugin's own order with
// its exact exception texts, and turned into a BackgroundSpec that holds everything a
// transfer needs. The options arrive as JSON: HSL booleans, numbers, strings and arrays
// become JSON booleans, numbers, strings and objects/lists. Nothing here touches the
// network; files are only checked for being readable (and read at transfer time).

package engine

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// OptionError is a synchronous refusal of a background request's arguments: Halon
// throws an HSL exception whose text is Error().
type OptionError struct {
	// Option is the option or argument at fault ("url", "options", "tls_verify_peer",
	// "tls_client_cert", "post", ...).
	Option string
	// Text is Halon's exception text.
	Text string
}

func (e *OptionError) Error() string { return e.Text }

// Exceptions about the arguments themselves, for callers that receive them in another
// form (a NULL id or URL from C). "Missing ID in configuration" is the pool check's.
var (
	ErrBadIDParameter  = &OptionError{Option: "id", Text: "Bad ID parameter"}
	ErrBadURLParameter = &OptionError{Option: "url", Text: "Bad URL parameter"}
)

func bgBadValue(name string) *OptionError {
	return &OptionError{Option: name, Text: "Bad " + name + " value"}
}

func bgBadPost(text string) *OptionError { return &OptionError{Option: "post", Text: text} }

// Texts of the post checks.
const (
	bgExcBadPost     = "Bad POST parameter"
	bgExcBadDataType = "Bad data type"
	bgExcBadPostType = "Bad type of POST parameter"
)

// BodyKind says what a background request sends as its body.
type BodyKind int

const (
	// BodyNone: no body. GET (or the custom method) without Content-Length.
	BodyNone BodyKind = iota
	// BodyString: Halon's string post (CURLOPT_POSTFIELDS + POSTFIELDSIZE): the bytes
	// with Content-Length and, unless a custom Content-Type entry exists, curl's
	// "Content-Type: application/x-www-form-urlencoded" after it.
	BodyString
	// BodyFile: Halon's File post. The file is read at transfer time and sent with a
	// known length (Content-Length, no chunking, no "Expect: 100-continue": designed
	// differences from the plugin, which streams it chunked after a 1 s Expect wait).
	BodyFile
	// BodyForm: Halon's array post (CURLOPT_MIMEPOST), multipart with Content-Length.
	BodyForm
)

// BackgroundBody is the body of a background request.
type BackgroundBody struct {
	// Kind is the body's kind; every kind but BodyNone makes the request a POST in
	// curl's sense (HTTPREQ_POST or HTTPREQ_POST_MIME), whatever Method says.
	Kind BodyKind
	// Data is the BodyString bytes (binary-safe, may be empty). It is also the payload
	// that CURLOPT_AWS_SIGV4 hashes; every other kind hashes as an empty payload.
	Data []byte
	// Path is the BodyFile file, checked readable at parse time, read at transfer time.
	Path string
	// Base64 is the "encoder": "base64" option, which applies only to BodyFile: the file
	// goes out as OpenSSL's EVP encoder writes base64 (64-character lines, each ended
	// by LF, the last one too), complete (the plugin loses data; a designed difference).
	Base64 bool
	// Form is the BodyForm body.
	Form *Multipart
	// ContentType is the Content-Type the body gets when no custom "Content-Type:"
	// entry is given: "application/x-www-form-urlencoded" for BodyString (curl's own,
	// written after Content-Length), "application/octet-stream" for BodyFile (already
	// appended to BackgroundSpec.Headers, as the plugin appends it to its slist),
	// "multipart/form-data" for BodyForm (see Multipart.ContentType for the value with
	// its boundary), "" for BodyNone.
	ContentType string
}

// ClientCert is the tls_client_cert option: what the plugin installs in its SSL_CTX
// callback for every TLS connection of the request.
type ClientCert struct {
	// Certificate is the leaf certificate, the chain certificates after it, and the
	// private key.
	Certificate tls.Certificate
	// Identity is a stable digest (hex SHA-256) of the certificate, chain and key DER.
	// Connections made with a client certificate must be keyed by it and never be
	// reused by a request with another identity or with none (the plugin's libcurl can
	// reuse them; hc does not).
	Identity string
	// SetupError is a curl code the request fails with when a TLS connection is set up,
	// after the TCP connect and before the handshake; 0 when the certificate is usable.
	// It is 42 ("Operation was aborted by an application callback") when the key does
	// not match the certificate: the plugin's SSL_CTX_use_cert_and_key /
	// SSL_CTX_check_private_key fail in its callback then, not when the request is made.
	// Plain-http requests never set up TLS and are not affected.
	SetupError int
}

// BackgroundSpec is a validated background request: everything its transfer needs.
type BackgroundSpec struct {
	// URL is the request URL (CURLOPT_URL), cut at a NUL as C would see it. The plugin
	// does not check it when the request is made.
	URL string
	// URLError is the curl code the transfer fails with before any connection, 0 when
	// the URL is usable: 1 ("Unsupported protocol") for a scheme other than http or
	// https (hc's designed difference: the plugin's libcurl would serve file://,
	// gopher:// and others), 3 ("URL using bad/illegal format or missing URL") for a URL
	// curl 7.88 rejects, such as one with a space.
	URLError int
	// parsed is URL as ParseBackgroundRequest parsed it, valid while URL is still
	// parsedFrom (a caller may change URL afterwards).
	parsed     *reqURL
	parsedFrom string
	url        reqURL // parsed's memory, when ParseBackgroundRequest parsed it
	// pooled says ParseBackgroundRequest made the spec: nobody outside the engine holds
	// it, so the event loop may reuse it once the request is finished (recycle.go).
	pooled bool
	// Method is the request verb: the "method" option verbatim (CURLOPT_CUSTOMREQUEST,
	// even an empty one), else POST with a body and GET without.
	Method string
	// CustomMethod says Method came from the "method" option. It changes the verb only:
	// the body rules stay those of Body.Kind (a custom "HEAD" still waits for a body).
	CustomMethod bool
	// Headers is the CURLOPT_HTTPHEADER list exactly as the plugin builds it: the string
	// entries of "headers" in order (non-strings skipped, each cut at a NUL), then, for a
	// BodyFile without a custom entry starting "Content-Type:" (any case), "Content-Type:
	// application/octet-stream". curl's slist rules apply when they are written: "X:"
	// removes curl's own X header, "X;" sends "X:" with an empty value, anything else is
	// sent verbatim after curl's own headers, in order.
	Headers []string
	// Body is the request body.
	Body BackgroundBody
	// Timeout is the total time allowed (CURLOPT_TIMEOUT), queueing for the pool's
	// connection limits included; 0 means none. Fractions are honoured (0.5 is 500 ms:
	// a designed difference; the plugin truncates to whole seconds). A negative value,
	// or one curl's setopt refuses (over 2147483 s), means none, as in the plugin.
	Timeout time.Duration
	// ConnectTimeout limits the connect phase (CURLOPT_CONNECTTIMEOUT, same rules as
	// Timeout). It is never 0: unset, zero or refused is libcurl's default of 300 s.
	ConnectTimeout time.Duration
	// MaxFileSize is the largest response body accepted in bytes (fractions
	// truncated); 0 means no limit. A Content-Length above it fails with 63 ("Maximum
	// file size exceeded") and a body growing past it with 23.
	MaxFileSize int64
	// Redirects is how many redirects are followed: 0 none (a 3xx is the result), N up
	// to N (one more is error 47), -1 unlimited (also for values below -1, whose
	// CURLOPT_MAXREDIRS curl refuses, keeping its 7.88 default of unlimited). Fractions
	// are truncated toward zero.
	Redirects int
	// Proxy is CURLOPT_PROXY. When unset, libcurl's proxy environment variables apply.
	Proxy OptString
	// SourceIP is CURLOPT_INTERFACE: an address, an interface name, or "if!"/"host!".
	SourceIP OptString
	// Username is CURLOPT_USERNAME. A username, even an empty one, is what turns
	// authentication on. Without AWSSigV4 the scheme is curl's default, Basic, sent up
	// front between Host and Accept (a 401 is the result; nothing is retried).
	Username OptString
	// Password is CURLOPT_PASSWORD (unset with a username set: Basic "user:"). Alone it
	// sends nothing.
	Password OptString
	// AWSSigV4 is CURLOPT_AWS_SIGV4 ("provider1[:provider2[:region[:service]]]"). When
	// set, it replaces Basic: the request is signed by SignSigV4 with Username as the
	// access key id and Password as the secret, but only when Username is set and no
	// custom Authorization entry exists.
	AWSSigV4 OptString
	// VerifyPeer is tls_verify_peer (default true; false is CURLOPT_SSL_VERIFYPEER 0:
	// the chain is not checked, but with libcurl's OpenSSL backend the host name still
	// is, unless VerifyHost is false too).
	VerifyPeer bool
	// VerifyHost is tls_verify_host (default true; false is CURLOPT_SSL_VERIFYHOST 0:
	// the host name is not checked, the chain still is).
	VerifyHost bool
	// ClientCert is the tls_client_cert option, nil without one. It is used only on TLS
	// connections.
	ClientCert *ClientCert
}

// DefaultConnectTimeout is libcurl's connect timeout when none is set.
const DefaultConnectTimeout = 300 * time.Second

// bgMaxCurlSeconds is the largest value curl 7.88's CURLOPT_TIMEOUT and
// CURLOPT_CONNECTTIMEOUT accept (INT_MAX/1000); larger ones fail and are ignored.
const bgMaxCurlSeconds = math.MaxInt32 / 1000

// ParseBackgroundRequest checks a background request the way Halon's http-background
// 1.2.1 checks its arguments, in the plugin's order, and returns the first failure as
// an *OptionError carrying the plugin's exception text. url is the URL; options is a
// JSON object of Halon's options (empty or null: none; a list: an HSL array without
// string keys, so no option is found; anything else: "Bad options parameter"), plus
// hc's two body options "post_file" (a path) and "form" (multipart fields); body is the
// string post when bodySet. Unknown keys are ignored.
func ParseBackgroundRequest(url string, options []byte, body []byte, bodySet bool) (*BackgroundSpec, error) {
	spec := newSpec()
	spec.URL = bgCutNUL(url)
	if err := spec.url.parse(spec.URL, parseOptions{}); err != nil {
		spec.URLError = err.code
	} else {
		spec.parsed, spec.parsedFrom = &spec.url, spec.URL // perform need not parse it again
	}

	opts, err := bgParseJSON(options)
	if err != nil || (opts != nil && opts.kind != bgObject && opts.kind != bgArray) {
		return nil, &OptionError{Option: "options", Text: "Bad options parameter"}
	}
	find := func(key string) *bgJSON { return opts.find(key) }

	// The plugin's order: tls_verify_peer, tls_verify_host, tls_client_cert, timeout,
	// connect_timeout, max_file_size, encoder, proxy, method, sourceip, username,
	// password, aws_sigv4, redirects; then headers (never refused); then the post.
	for _, o := range []struct {
		name string
		dst  *bool
	}{{"tls_verify_peer", &spec.VerifyPeer}, {"tls_verify_host", &spec.VerifyHost}} {
		if v := find(o.name); v != nil {
			if v.kind != bgBool {
				return nil, bgBadValue(o.name)
			}
			*o.dst = v.b
		}
	}

	if v := find("tls_client_cert"); v != nil {
		cc, err := bgParseClientCert(v)
		if err != nil {
			return nil, err
		}
		spec.ClientCert = cc
	}

	number := func(name string) (float64, bool, error) {
		v := find(name)
		if v == nil {
			return 0, false, nil
		}
		if v.kind != bgNumber {
			return 0, false, bgBadValue(name)
		}
		return v.n, true, nil
	}
	if n, ok, err := number("timeout"); err != nil {
		return nil, err
	} else if ok {
		spec.Timeout = bgSeconds(n)
	}
	if n, ok, err := number("connect_timeout"); err != nil {
		return nil, err
	} else if ok {
		if d := bgSeconds(n); d > 0 {
			spec.ConnectTimeout = d
		}
	}
	if n, ok, err := number("max_file_size"); err != nil {
		return nil, err
	} else if ok && n >= 1 {
		spec.MaxFileSize = bgTruncInt64(n)
	}

	str := func(name string) (OptString, error) {
		v := find(name)
		if v == nil {
			return OptString{}, nil
		}
		if v.kind != bgString {
			return OptString{}, bgBadValue(name)
		}
		return Some(bgCutNUL(v.s)), nil
	}
	encoder, err := str("encoder")
	if err != nil {
		return nil, err
	}
	if spec.Proxy, err = str("proxy"); err != nil {
		return nil, err
	}
	method, err := str("method")
	if err != nil {
		return nil, err
	}
	if spec.SourceIP, err = str("sourceip"); err != nil {
		return nil, err
	}
	if spec.Username, err = str("username"); err != nil {
		return nil, err
	}
	if spec.Password, err = str("password"); err != nil {
		return nil, err
	}
	if spec.AWSSigV4, err = str("aws_sigv4"); err != nil {
		return nil, err
	}
	if n, ok, err := number("redirects"); err != nil {
		return nil, err
	} else if ok {
		spec.Redirects = bgRedirects(n)
	}

	// headers: the string entries of an array (a list or an object's values, in order);
	// anything else yields no header, as HalonMTA_hsl_value_array_get does.
	hasContentType := false
	if v := find("headers"); v != nil && (v.kind == bgArray || v.kind == bgObject) {
		for _, h := range v.vals {
			if h.kind != bgString {
				continue
			}
			e := bgCutNUL(h.s)
			if !hasContentType && bgHasPrefixFold(e, "Content-Type:") {
				hasContentType = true
			}
			spec.Headers = append(spec.Headers, e)
		}
	}

	// the post: the string body, "post_file" or "form" (one of them at most)
	postFile, form := find("post_file"), find("form")
	kinds := 0
	for _, present := range []bool{bodySet, postFile != nil, form != nil} {
		if present {
			kinds++
		}
	}
	if kinds > 1 {
		return nil, bgBadPost(bgExcBadPostType)
	}
	switch {
	case bodySet:
		spec.Body = BackgroundBody{Kind: BodyString, Data: bytes.Clone(body), ContentType: "application/x-www-form-urlencoded"}
		if spec.Body.Data == nil {
			spec.Body.Data = []byte{}
		}
	case postFile != nil:
		if postFile.kind != bgString {
			return nil, bgBadPost(bgExcBadPostType)
		}
		if err := bgCheckReadable(postFile.s); err != nil {
			return nil, bgBadPost(bgExcBadPost)
		}
		spec.Body = BackgroundBody{Kind: BodyFile, Path: postFile.s, ContentType: "application/octet-stream",
			Base64: encoder.Set && encoder.Value == "base64"}
		if !hasContentType {
			spec.Headers = append(spec.Headers, "Content-Type: application/octet-stream")
		}
	case form != nil:
		mp, err := bgParseForm(form)
		if err != nil {
			return nil, err
		}
		spec.Body = BackgroundBody{Kind: BodyForm, Form: mp, ContentType: "multipart/form-data"}
	}
	if spec.Body.Kind != BodyNone {
		spec.Method = "POST"
	}
	if method.Set {
		spec.Method, spec.CustomMethod = method.Value, true
	}
	if err := checkBackgroundSpec(spec); err != nil {
		return nil, err
	}
	return spec, nil
}

// OpenBody opens the request body for one transfer: a reader of exactly Len bytes
// (Content-Length). It is nil, nil for BodyNone. Files are opened and measured now;
// errors are curl's read error (26). Open it again for every attempt that resends it.
func (s *BackgroundSpec) OpenBody() (*BodyReader, error) {
	switch s.Body.Kind {
	case BodyString:
		return &BodyReader{Len: int64(len(s.Body.Data)), r: bytes.NewReader(s.Body.Data)}, nil
	case BodyForm:
		return s.Body.Form.Open(s.Headers)
	case BodyFile:
		f, size, regular, err := mimeOpenFile(s.Body.Path)
		if err != nil {
			return nil, err
		}
		var src io.Reader
		if regular {
			src = &mimeExactReader{r: f, left: size}
		} else {
			data, err := mimeReadAll(f, size, false)
			_ = f.Close()
			if err != nil {
				return nil, err
			}
			size, src, f = int64(len(data)), bytes.NewReader(data), nil
		}
		br := &BodyReader{Len: size, r: src}
		if f != nil {
			br.closers = []io.Closer{f}
		}
		if s.Body.Base64 {
			br.Len = evpBase64Len(size)
			br.r = newMimeBase64Lines(src, 48, "\n", true)
		}
		return br, nil
	}
	return nil, nil
}

// bgSeconds turns an option in seconds into a duration: 0 for none (zero, negative,
// or more than curl accepts).
func bgSeconds(n float64) time.Duration {
	if !(n > 0) || n >= bgMaxCurlSeconds+1 {
		return 0
	}
	return time.Duration(n * float64(time.Second))
}

// bgRedirects is the plugin's (long) cast of "redirects" and curl's MAXREDIRS rules.
func bgRedirects(n float64) int {
	r := bgTruncInt64(n)
	switch {
	case r < -1:
		return -1
	case r > math.MaxInt32:
		return math.MaxInt32
	}
	return int(r)
}

// bgTruncInt64 is a (long) cast of a double, saturated instead of undefined.
func bgTruncInt64(n float64) int64 {
	switch {
	case n >= math.MaxInt64:
		return math.MaxInt64
	case n <= math.MinInt64:
		return math.MinInt64
	}
	return int64(n)
}

// bgHasPrefixFold reports whether s starts with p in any case (strncasecmp).
func bgHasPrefixFold(s, p string) bool { return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) }

// bgCutNUL is a Go string as C sees it: up to its first NUL.
func bgCutNUL(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// bgCheckReadable is the parse-time check of a body file: it must open for reading and
// not be a directory. Its content is read at transfer time. The check does not block on
// a FIFO without a writer.
func bgCheckReadable(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return errors.New(path + " is a directory")
	}
	return nil
}

// bgParseForm turns the "form" option into a multipart body: an object gives named parts
// in the object's order, a list parts without a name. A field is an object with exactly
// one of "data" (a string, or {"b64": "..."} for binary data, or {"file": "/path"}) and
// "file" (a path), and optional string "type", "filename" and "encoder" (other types
// are ignored, as is an encoder curl does not know).
func bgParseForm(v *bgJSON) (*Multipart, error) {
	if v.kind != bgObject && v.kind != bgArray {
		return nil, bgBadPost(bgExcBadPostType)
	}
	mp, err := NewMultipart()
	if err != nil {
		return nil, err
	}
	for i, f := range v.vals {
		if f.kind != bgObject {
			return nil, bgBadPost(bgExcBadDataType)
		}
		var p MimePart
		if v.kind == bgObject {
			p.Name, p.HasName = bgCutNUL(v.keys[i]), true
		}
		data, file := f.find("data"), f.find("file")
		isFile := false
		switch {
		case data != nil && file != nil, data == nil && file == nil:
			return nil, bgBadPost(bgExcBadDataType)
		case file != nil:
			if file.kind != bgString {
				return nil, bgBadPost(bgExcBadDataType)
			}
			p.File, isFile = file.s, true
		case data.kind == bgString:
			p.Data = []byte(data.s)
		case data.kind == bgObject && len(data.keys) == 1 && data.vals[0].kind == bgString:
			switch data.keys[0] {
			case "b64":
				b, err := base64.StdEncoding.DecodeString(data.vals[0].s)
				if err != nil {
					return nil, bgBadPost(bgExcBadDataType)
				}
				p.Data = b
			case "file":
				p.File, isFile = data.vals[0].s, true
			default:
				return nil, bgBadPost(bgExcBadDataType)
			}
		default:
			return nil, bgBadPost(bgExcBadDataType)
		}
		if isFile {
			if err := bgCheckReadable(p.File); err != nil {
				return nil, bgBadPost(bgExcBadPost)
			}
		} else if p.Data == nil {
			p.Data = []byte{}
		}
		if t := f.find("type"); t != nil && t.kind == bgString {
			p.Type, p.HasType = bgCutNUL(t.s), true
		}
		if fn := f.find("filename"); fn != nil && fn.kind == bgString {
			p.Filename, p.HasFilename = bgCutNUL(fn.s), true
		}
		if e := f.find("encoder"); e != nil && e.kind == bgString {
			p.Encoder, _ = MimeEncoderName(bgCutNUL(e.s))
		}
		mp.Parts = append(mp.Parts, p)
	}
	return mp, nil
}

// bgParseClientCert checks tls_client_cert like the plugin: an array (else "Bad
// tls_client_cert value") whose "x509" is a certificate, "privatekey" a private key and
// optional "chain" an array of certificates. PEM text stands for Halon's X509 and
// PrivateKey resources; text that does not parse is "not a resource".
func bgParseClientCert(v *bgJSON) (*ClientCert, error) {
	if v.kind != bgObject && v.kind != bgArray {
		return nil, bgBadValue("tls_client_cert")
	}
	leaf := bgPEMCertificate(v.find("x509"))
	if leaf == nil {
		return nil, &OptionError{Option: "tls_client_cert", Text: "Bad x509 value"}
	}
	key, keyDER := bgPEMPrivateKey(v.find("privatekey"))
	if key == nil {
		return nil, &OptionError{Option: "tls_client_cert", Text: "Bad privatekey value"}
	}
	cc := &ClientCert{Certificate: tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}}
	if ch := v.find("chain"); ch != nil {
		if ch.kind != bgObject && ch.kind != bgArray {
			return nil, &OptionError{Option: "tls_client_cert", Text: "Bad chain value"}
		}
		for _, e := range ch.vals {
			c := bgPEMCertificate(e)
			if c == nil {
				return nil, &OptionError{Option: "tls_client_cert", Text: "Bad x509 value in chain"}
			}
			cc.Certificate.Certificate = append(cc.Certificate.Certificate, c.Raw)
		}
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(leaf.PublicKey) {
		cc.SetupError = bgSetupAborted
	}
	h := sha256.New()
	var n [8]byte
	for _, der := range append(append([][]byte{}, cc.Certificate.Certificate...), keyDER) {
		binary.BigEndian.PutUint64(n[:], uint64(len(der)))
		h.Write(n[:])
		h.Write(der)
	}
	cc.Identity = hex.EncodeToString(h.Sum(nil))
	return cc, nil
}

// bgSetupAborted is CURLE_ABORTED_BY_CALLBACK (42).
const bgSetupAborted = 42

// bgPEMCertificate parses the first CERTIFICATE block of a PEM string value, or nil.
func bgPEMCertificate(v *bgJSON) *x509.Certificate {
	if v == nil || v.kind != bgString {
		return nil
	}
	rest := []byte(v.s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil
			}
			return c
		}
	}
}

// bgPEMPrivateKey parses the first private key block (PKCS#8, PKCS#1 or SEC 1) of a PEM
// string value, or nil. Encrypted keys are not usable.
func bgPEMPrivateKey(v *bgJSON) (crypto.Signer, []byte) {
	if v == nil || v.kind != bgString {
		return nil, nil
	}
	rest := []byte(v.s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, nil
		}
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") || b.Type == "ENCRYPTED PRIVATE KEY" {
			continue
		}
		if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
			switch k := k.(type) {
			case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
				return k.(crypto.Signer), b.Bytes
			}
			return nil, nil
		}
		if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
			return k, b.Bytes
		}
		if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
			return k, b.Bytes
		}
		return nil, nil
	}
}

// bgJSON is a JSON value as an HSL value: objects keep their key order (HSL arrays are
// ordered), a repeated key replaces the value in its first position.
type bgJSON struct {
	kind bgJSONKind
	b    bool
	n    float64
	s    string
	keys []string  // bgObject
	vals []*bgJSON // bgObject values (parallel to keys) or bgArray elements
}

type bgJSONKind int

const (
	bgNull bgJSONKind = iota
	bgBool
	bgNumber
	bgString
	bgObject
	bgArray
)

// find is HalonMTA_hsl_value_array_find: the value under a string key of an object;
// nil for a missing key, a list (no string keys) or a non-array.
func (v *bgJSON) find(key string) *bgJSON {
	if v == nil || v.kind != bgObject {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

// errBGJSON is any JSON that is not one well-formed value.
var errBGJSON = errors.New("invalid JSON")

// bgParseJSON parses one JSON value; nil for empty input or null.
func bgParseJSON(data []byte) (*bgJSON, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := bgDecodeJSON(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errBGJSON
	}
	if v.kind == bgNull {
		return nil, nil
	}
	return v, nil
}

// bgMaxJSONDepth bounds nesting (json.Decoder's own limit is much larger).
const bgMaxJSONDepth = 1000

func bgDecodeJSON(dec *json.Decoder, depth int) (*bgJSON, error) {
	if depth > bgMaxJSONDepth {
		return nil, errBGJSON
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, errBGJSON
	}
	switch t := tok.(type) {
	case nil:
		return &bgJSON{kind: bgNull}, nil
	case bool:
		return &bgJSON{kind: bgBool, b: t}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, errBGJSON
		}
		return &bgJSON{kind: bgNumber, n: f}, nil
	case string:
		return &bgJSON{kind: bgString, s: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := &bgJSON{kind: bgArray}
			for dec.More() {
				e, err := bgDecodeJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.vals = append(v.vals, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, errBGJSON
			}
			return v, nil
		case '{':
			v := &bgJSON{kind: bgObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, errBGJSON
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errBGJSON
				}
				e, err := bgDecodeJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				replaced := false
				for i, old := range v.keys {
					if old == k {
						v.vals[i], replaced = e, true
						break
					}
				}
				if !replaced {
					v.keys = append(v.keys, k)
					v.vals = append(v.vals, e)
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, errBGJSON
			}
			return v, nil
		}
	}
	return nil, errBGJSON
}

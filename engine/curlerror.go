// This file owns libcurl's error vocabulary: the CURLE_* codes hc reproduces, the
// curl_easy_strerror texts of libcurl 7.88.1, Kamailio's $curlerror(n) rule, and the
// classification of Go network/TLS errors into the curl code libcurl would have returned.

package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// CURLE_* codes that hc produces.
const (
	curlOK                 = 0
	curlUnsupportedProto   = 1
	curlNotBuiltIn         = 4 // CURLE_NOT_BUILT_IN: e.g. an authmethod without any usable bit
	curlURLMalformat       = 3
	curlCantResolveProxy   = 5
	curlCantResolveHost    = 6
	curlCantConnect        = 7
	curlWeirdServerReply   = 8
	curlPartialFile        = 18
	curlWriteError         = 23
	curlAbortedByCallback  = 42 // also how hc reports a cancelled or shut-down background request
	curlFileSizeExceeded   = 63
	curlOutOfMemory        = 27
	curlTimeout            = 28
	curlSSLConnect         = 35
	curlBadFunctionArg     = 43
	curlInterfaceFailed    = 45
	curlTooManyRedirects   = 47
	curlGotNothing         = 52
	curlSendError          = 55
	curlRecvError          = 56
	curlSSLCertProblem     = 58
	curlSSLCipher          = 59
	curlPeerFailedVerify   = 60
	curlSSLCACertBadFile   = 77
	curlHTTP2Error         = 16
	curlHTTP2StreamError   = 92
	curlProxyHandshakeFail = 97
)

// strerror788 is curl_easy_strerror() of libcurl 7.88.1 for codes 0..99.
var strerror788 = [100]string{
	0:  "No error",
	1:  "Unsupported protocol",
	2:  "Failed initialization",
	3:  "URL using bad/illegal format or missing URL",
	4:  "A requested feature, protocol or option was not found built-in in this libcurl due to a build-time decision.",
	5:  "Couldn't resolve proxy name",
	6:  "Couldn't resolve host name",
	7:  "Couldn't connect to server",
	8:  "Weird server reply",
	9:  "Access denied to remote resource",
	10: "FTP: The server failed to connect to data port",
	11: "FTP: unknown PASS reply",
	12: "FTP: Accepting server connect has timed out",
	13: "FTP: unknown PASV reply",
	14: "FTP: unknown 227 response format",
	15: "FTP: can't figure out the host in the PASV response",
	16: "Error in the HTTP2 framing layer",
	17: "FTP: couldn't set file type",
	18: "Transferred a partial file",
	19: "FTP: couldn't retrieve (RETR failed) the specified file",
	20: "Unknown error",
	21: "Quote command returned error",
	22: "HTTP response code said error",
	23: "Failed writing received data to disk/application",
	24: "Unknown error",
	25: "Upload failed (at start/before it took off)",
	26: "Failed to open/read local data from file/application",
	27: "Out of memory",
	28: "Timeout was reached",
	29: "Unknown error",
	30: "FTP: command PORT failed",
	31: "FTP: command REST failed",
	32: "Unknown error",
	33: "Requested range was not delivered by the server",
	34: "Internal problem setting up the POST",
	35: "SSL connect error",
	36: "Couldn't resume download",
	37: "Couldn't read a file:// file",
	38: "LDAP: cannot bind",
	39: "LDAP: search failed",
	40: "Unknown error",
	41: "A required function in the library was not found",
	42: "Operation was aborted by an application callback",
	43: "A libcurl function was given a bad argument",
	44: "Unknown error",
	45: "Failed binding local connection end",
	46: "Unknown error",
	47: "Number of redirects hit maximum amount",
	48: "An unknown option was passed in to libcurl",
	49: "Malformed option provided in a setopt",
	50: "Unknown error",
	51: "Unknown error",
	52: "Server returned nothing (no headers, no data)",
	53: "SSL crypto engine not found",
	54: "Can not set SSL crypto engine as default",
	55: "Failed sending data to the peer",
	56: "Failure when receiving data from the peer",
	57: "Unknown error",
	58: "Problem with the local SSL certificate",
	59: "Couldn't use specified SSL cipher",
	60: "SSL peer certificate or SSH remote key was not OK",
	61: "Unrecognized or bad HTTP Content or Transfer-Encoding",
	62: "Unknown error",
	63: "Maximum file size exceeded",
	64: "Requested SSL level failed",
	65: "Send failed since rewinding of the data stream failed",
	66: "Failed to initialise SSL crypto engine",
	67: "Login denied",
	68: "TFTP: File Not Found",
	69: "TFTP: Access Violation",
	70: "Disk full or allocation exceeded",
	71: "TFTP: Illegal operation",
	72: "TFTP: Unknown transfer ID",
	73: "Remote file already exists",
	74: "TFTP: No such user",
	75: "Unknown error",
	76: "Unknown error",
	77: "Problem with the SSL CA cert (path? access rights?)",
	78: "Remote file not found",
	79: "Error in the SSH layer",
	80: "Failed to shut down the SSL connection",
	81: "Socket not ready for send/recv",
	82: "Failed to load CRL file (path? access rights?, format?)",
	83: "Issuer check against peer certificate failed",
	84: "FTP: The server did not accept the PRET command.",
	85: "RTSP CSeq mismatch or invalid CSeq",
	86: "RTSP session error",
	87: "Unable to parse FTP file list",
	88: "Chunk callback failed",
	89: "The max connection limit is reached",
	90: "SSL public key does not match pinned public key",
	91: "SSL server certificate status verification FAILED",
	92: "Stream error in the HTTP/2 framing layer",
	93: "API function called from within callback",
	94: "An authentication function returned an error",
	95: "HTTP/3 error",
	96: "QUIC connection error",
	97: "proxy handshake error",
	98: "SSL Client Certificate required",
	99: "Unrecoverable error in select/poll",
}

// CurlStrerror returns libcurl 7.88.1's curl_easy_strerror text for code, or
// "Unknown error" outside 0..99 (as libcurl does for codes it does not know).
func CurlStrerror(code int) string {
	if code < 0 || code >= len(strerror788) {
		return "Unknown error"
	}
	return strerror788[code]
}

// CurlErrorText is Kamailio's $curlerror(n): n < 0 gives "Bad CURL error code", n >= 100
// "HTTP result code" (this also wins for n > 999, because pv_get_curlerror has no else), and
// 0..99 libcurl's own text.
func CurlErrorText(n int) string {
	switch {
	case n < 0:
		return "Bad CURL error code"
	case n >= 100:
		return "HTTP result code"
	}
	return CurlStrerror(n)
}

// curlError is a transfer failure with the curl code libcurl would have reported. msg is
// for humans; it must never contain credentials.
type curlError struct {
	code    int
	msg     string
	refused bool // HTTP/2 REFUSED_STREAM: curl retries the request once on a new connection
}

func (e *curlError) Error() string {
	if e.msg == "" {
		return CurlStrerror(e.code)
	}
	return CurlStrerror(e.code) + ": " + e.msg
}

func newCurlError(code int, msg string) *curlError { return &curlError{code: code, msg: msg} }

// certVerifyError marks a failure of hc's own peer/host verification so that it maps to 60
// and not to the generic handshake code 35.
type certVerifyError struct{ err error }

func (e *certVerifyError) Error() string { return "certificate verify failed: " + e.err.Error() }
func (e *certVerifyError) Unwrap() error { return e.err }

// Phases of a transfer, used to pick the curl code for an I/O error the way libcurl's
// state machine would.
type phase int

const (
	phaseDNS phase = iota
	phaseConnect
	phaseProxyConnect // reading/writing the CONNECT exchange with the proxy
	phaseTLS
	phaseSend
	phaseRecvHead // nothing of the response received yet
	phaseRecvBody
)

// isTimeout reports whether err is a deadline expiry (the transfer's total timeout).
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// classify maps a Go error from phase p to a curl code. proxy says whether the peer being
// dialled is the proxy (DNS failures are then 5, not 6).
func classify(err error, p phase, proxy bool) int {
	if err == nil {
		return curlOK
	}
	var ce *curlError
	if errors.As(err, &ce) {
		return ce.code
	}
	if isTimeout(err) {
		return curlTimeout
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if proxy {
			return curlCantResolveProxy
		}
		return curlCantResolveHost
	}
	switch p {
	case phaseDNS:
		if proxy {
			return curlCantResolveProxy
		}
		return curlCantResolveHost
	case phaseConnect:
		if errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EINVAL) {
			// bind() of the local (netinterface) address failed
			return curlInterfaceFailed
		}
		return curlCantConnect
	case phaseTLS:
		var cv *certVerifyError
		var ua x509.UnknownAuthorityError
		var ci x509.CertificateInvalidError
		var he x509.HostnameError
		var tv *tls.CertificateVerificationError
		if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &he) || errors.As(err, &tv) {
			return curlPeerFailedVerify
		}
		return curlSSLConnect
	case phaseSend:
		return curlSendError
	case phaseProxyConnect:
		return curlRecvError
	case phaseRecvHead:
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return curlGotNothing
		}
		return curlRecvError
	case phaseRecvBody:
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return curlPartialFile
		}
		return curlRecvError
	}
	return curlRecvError
}

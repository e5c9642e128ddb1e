// This file owns the Result of a request and Kamailio's result rules: which return value
// the script sees (HTTP status, curl code or -1) and which body it would store (2xx-4xx,
// maxdatasize truncation, the query first-line rule).

package engine

import "bytes"

// Result is the outcome of one Kamailio-style request.
type Result struct {
	Ret          int    // Kamailio's return: HTTP status (>=100), curl code (1..99), or -1
	Status       int    // final HTTP status, 0 if none
	CurlCode     int    // curl error code, 0 if none
	Body         []byte // kept body per Kamailio's rules (2xx–4xx, maxdatasize/first-line applied); nil if not kept
	BodyKept     bool   // whether Kamailio would store a body (false for transport errors, 1xx, >=500, -1)
	ContentType  string // response Content-Type
	EffectiveURL string
	Header       []byte  // header block of the final response: "Name: value\r\n" lines (HTTP/2: lower-case names, sorted by name)
	HTTPVersion  string  // "HTTP/1.1", "HTTP/1.0" or "HTTP/2"
	Message      string  // human-readable error ("" on success); never contains passwords
	Refusal      Refusal // why nothing was sent, when Ret is -1
	BodyExternal bool    // Body is BodyAllocator memory, owned by the receiver (bodyalloc.go)
}

// Refusal says why a request was refused before anything was sent (Kamailio's -1).
type Refusal int

const (
	NotRefused        Refusal = iota
	UnknownConnection         // the connection, or its failover target, is not defined
	InvalidRequest            // an empty URL or method
)

// internalError is Kamailio's -1 (unknown connection, empty URL, ...): nothing was sent
// and nothing is counted.
func internalError(why Refusal, msg string) *Result {
	return &Result{Ret: -1, Message: msg, Refusal: why}
}

// curlErrorResult is a transfer that ended with a curl error.
func curlErrorResult(ce *curlError) *Result {
	return &Result{Ret: ce.code, CurlCode: ce.code, Message: ce.Error()}
}

// keepBody applies curL_request_url's storage rules to a final response. Only 200..499
// is stored; an empty download stores nothing (Kamailio's {NULL,0}).
func (r *Result) keepBody(buf []byte, maxSize int, oneline bool) {
	if r.Status < 200 || r.Status >= 500 {
		return
	}
	r.BodyKept = true
	if len(buf) == 0 {
		return
	}
	switch {
	case oneline:
		// The first LF ends the result (a CR before it is kept); the size limit only
		// applies when there is no LF at all.
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[:i]
		} else if maxSize > 0 && len(buf) > maxSize {
			buf = buf[:maxSize]
		}
	case maxSize > 0 && len(buf) > maxSize:
		buf = buf[:maxSize]
	}
	r.Body = buf
}

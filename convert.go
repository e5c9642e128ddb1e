package main

// This file converts between Go values and C memory for the exports: inputs are copied
// into Go memory, answers are written into malloc'd blocks the host owns, and panics are
// turned into HC_E_INTERNAL.

/*
#include <stdlib.h>
#include "capi.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"unsafe"

	"github.com/hcproject/hc/engine"
)

// maxInputLen bounds a body passed in by the host (a length beyond any real buffer is
// a caller bug that would otherwise read out of bounds).
const maxInputLen = 1 << 30

// init makes the $curlerror texts into C strings once, kept in the C array
// hc__curl_texts (capi.h) and never freed, so that hc_curlerror can return "static"
// strings that leak checkers see referenced.
func init() {
	for n := -1; n <= 100; n++ {
		C.hc__curl_texts[n+1] = C.CString(engine.CurlErrorText(n))
	}
}

func curlErrorText(n int) *C.char {
	n = min(max(n, -1), 100)
	return C.hc__curl_texts[n+1]
}

// goBytes copies length bytes from p. p may be NULL only when length is 0.
func goBytes(p *C.char, length C.size_t) ([]byte, bool) {
	if length == 0 {
		return nil, true
	}
	if p == nil || length > maxInputLen {
		return nil, false
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(length)), true
}

// copyText writes msg into a caller buffer, truncated and NUL-terminated.
func copyText(buf *C.char, n C.size_t, msg string) {
	if buf == nil || n == 0 {
		return
	}
	b := []byte(msg)
	var p *C.char
	if len(b) > 0 {
		p = (*C.char)(unsafe.Pointer(&b[0]))
	}
	C.hc__copy_text(buf, n, p, C.size_t(len(b)))
}

// putResult stores r as a new C result in *out (when out is not NULL) and returns r.Ret.
func putResult(out **C.hc_result, r *engine.Result) C.int {
	if out != nil {
		*out = newCResult(r, resultCode(r))
	} else if r.BodyExternal {
		cBodies{}.Free(r.Body)
	}
	return C.int(r.Ret)
}

// cBodies is the engine's BodyAllocator (engine/bodyalloc.go): C memory inside a future
// result block (capi.c's hc__body_alloc), so that a large body is read from the socket
// into the block the host receives, with no Go allocation and no copy.
type cBodies struct{}

func (cBodies) Alloc(n int) []byte {
	p := C.hc__body_alloc(C.size_t(n))
	if p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), n)
}

func (cBodies) Free(b []byte) {
	C.hc__body_free((*C.char)(unsafe.Pointer(unsafe.SliceData(b))))
}

// inPlace says whether a body is cBodies memory that the result block takes over.
func inPlace(external bool, body []byte) C.int {
	if external && len(body) > 0 {
		return 1
	}
	return 0
}

// resultCode is the hc_code that explains a result's return value.
func resultCode(r *engine.Result) C.int {
	switch {
	case r.CurlCode > 0:
		return C.HC_E_TRANSFER
	case r.Ret > 0:
		return C.HC_OK // an HTTP status, or hc_get_redirect's 1
	case r.Refusal == engine.UnknownConnection:
		return C.HC_E_NOT_FOUND
	case r.Refusal == engine.InvalidRequest:
		return C.HC_E_INVALID
	}
	return C.HC_E_INTERNAL // -1 without a reason: an engine bug
}

// failResult answers a call that made no transfer: -1 and a result carrying code.
func failResult(out **C.hc_result, code C.int, msg string) C.int {
	if msg == "" {
		msg = C.GoString(C.hc_strerror(C.hc_code(code)))
	}
	if out != nil {
		*out = newCResult(&engine.Result{Ret: -1, Message: msg}, code)
	}
	return -1
}

func newCResult(r *engine.Result, code C.int) *C.hc_result {
	kept := 0
	if r.BodyKept {
		kept = 1
	}
	body, bodyLen := cbuf(r.Body)
	ctype, ctypeLen := cstr(r.ContentType)
	url, urlLen := cstr(r.EffectiveURL)
	hdrs, hdrsLen := cbuf(r.Header)
	ver, verLen := cstr(r.HTTPVersion)
	msg, msgLen := cstr(r.Message)
	return C.hc__result_new(C.int(r.Ret), code, C.int(r.Status), C.int(r.CurlCode), C.int(kept),
		body, bodyLen, inPlace(r.BodyExternal, r.Body), ctype, ctypeLen, url, urlLen, hdrs, hdrsLen, ver, verLen, msg, msgLen)
}

// submitCode is the hc_code of a refused background submission.
func submitCode(err error) C.int {
	switch {
	case errors.Is(err, engine.ErrUnknownPool):
		return C.HC_E_NOT_FOUND
	case errors.Is(err, engine.ErrQueueFull):
		return C.HC_E_QUEUE_FULL
	case errors.Is(err, engine.ErrShuttingDown):
		return C.HC_E_SHUTDOWN
	}
	return C.HC_E_INVALID // Halon's "Bad ... value" family
}

func newCBackgroundResult(r *engine.BackgroundResult) *C.hc_background_result {
	content, contentLen := cbuf(r.Content)
	msg, msgLen := cstr(r.Error)
	detail, detailLen := cstr(r.Detail)
	hdrs, hdrsLen := cbuf(r.Header)
	url, urlLen := cstr(r.EffectiveURL)
	ver, verLen := cstr(r.HTTPVersion)
	t := C.hc_timings{
		queue: C.double(r.Timings.Queue.Seconds()), connect: C.double(r.Timings.Connect.Seconds()),
		tls: C.double(r.Timings.TLS.Seconds()), first_byte: C.double(r.Timings.FirstByte.Seconds()),
		total: C.double(r.Timings.Total.Seconds()),
	}
	return C.hc__background_result_new(C.uint64_t(r.ID), C.int(r.Outcome), C.int(r.Status),
		content, contentLen, inPlace(r.ContentExternal, r.Content), C.int(r.CurlCode), msg, msgLen, detail, detailLen,
		hdrs, hdrsLen, url, urlLen, ver, verLen, t)
}

// cbuf and cstr pass Go memory to C for the duration of one call (allowed: it holds no
// Go pointers); hc__result_new copies it (except an in-place body, which is C memory).
func cbuf(b []byte) (*C.char, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

func cstr(s string) (*C.char, C.size_t) {
	if s == "" {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// panicMessage describes a recovered panic and records it in the crash log, if any.
func panicMessage(v any) string {
	msg := fmt.Sprintf("hc: internal error: %v", v)
	if crashLog != nil {
		fmt.Fprintf(crashLog, "%s\n%s\n", msg, debug.Stack())
	} else {
		fmt.Fprintf(os.Stderr, "%s\n", msg)
	}
	return msg
}

// recoverCode turns a panic in an hc_code-returning export into HC_E_INTERNAL.
func recoverCode(code *C.int, report func(string)) {
	if v := recover(); v != nil {
		msg := panicMessage(v)
		if report != nil {
			report(msg)
		}
		*code = C.HC_E_INTERNAL
	}
}

// recoverResult turns a panic in a request export into -1 with an HC_E_INTERNAL result.
func recoverResult(ret *C.int, out **C.hc_result) {
	if v := recover(); v != nil {
		*ret = failResult(out, C.HC_E_INTERNAL, panicMessage(v))
	}
}

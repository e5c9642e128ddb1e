// Command libhc is built with -buildmode=c-shared into libhc.so.
//
// This file holds the cgo exports (hcgo_*). They are called only by the public hc_*
// C functions of capi.c, after the fork guard; the version script hides them. Each one
// converts its arguments (copying every input), delegates to the engine and converts the
// answer back to C memory. A panic never crosses into the host: every export recovers
// and answers HC_E_INTERNAL.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/include -O2 -Wall -gdwarf-4
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include <string.h>
#include "capi.h"
*/
import "C"

import (
	"runtime"
	"time"
	"unsafe"

	"github.com/hcproject/hc/engine"
)

// main is required by -buildmode=c-shared and never runs.
func main() {}

//export hcgo_init
func hcgo_init(settings *C.char, errbuf *C.char, errlen C.size_t) (code C.int) {
	defer recoverCode(&code, func(msg string) { copyText(errbuf, errlen, msg) })
	c, msg := initLibrary(C.GoString(settings))
	if c != C.HC_OK {
		copyText(errbuf, errlen, msg)
	}
	return c
}

//export hcgo_listcon
func hcgo_listcon(out **C.char, outLen *C.size_t) C.int {
	return withLibrary(func(lib *library) C.int {
		if out == nil {
			return C.HC_E_INVALID
		}
		text, err := lib.cfg.ListconJSON()
		if err != nil {
			return C.HC_E_INTERNAL
		}
		p := C.CBytes(append(text, 0))
		if p == nil {
			return C.HC_E_NOMEM
		}
		*out = (*C.char)(p)
		if outLen != nil {
			*outLen = C.size_t(len(text))
		}
		return C.HC_OK
	})
}

//export hcgo_get_counters
func hcgo_get_counters(out *C.hc_counters) C.int {
	return withLibrary(func(lib *library) C.int {
		if out == nil {
			return C.HC_E_INVALID
		}
		connections, connok, connfail := lib.eng.Counters()
		out.connections = C.uint64_t(connections)
		out.connok = C.uint64_t(connok)
		out.connfail = C.uint64_t(connfail)
		return C.HC_OK
	})
}

//export hcgo_http_connect
func hcgo_http_connect(con, url, contentType, data *C.char, dataLen C.size_t, result **C.hc_result) C.int {
	return request(result, func(e *engine.Engine) *engine.Result {
		body, ok := goBytes(data, dataLen)
		switch {
		case con == nil:
			return refused("con is NULL")
		case !ok:
			return refused("data is NULL or longer than 1 GiB")
		}
		return e.HTTPConnect(C.GoString(con), C.GoString(url), optString(contentType), body)
	})
}

//export hcgo_query
func hcgo_query(url, post, hdrs *C.char, result **C.hc_result) C.int {
	return request(result, func(e *engine.Engine) *engine.Result {
		return e.Query(C.GoString(url), cStringBytes(post), C.GoString(hdrs))
	})
}

//export hcgo_query_c
func hcgo_query_c(url, post, contentType, hdrs *C.char, result **C.hc_result) C.int {
	return request(result, func(e *engine.Engine) *engine.Result {
		return e.QueryC(C.GoString(url), cStringBytes(post), optString(contentType), C.GoString(hdrs))
	})
}

//export hcgo_client_get
func hcgo_client_get(url, body, hdrs *C.char, result **C.hc_result) C.int {
	return request(result, func(e *engine.Engine) *engine.Result {
		return e.ClientGet(C.GoString(url), cStringBytes(body), C.GoString(hdrs))
	})
}

//export hcgo_request
func hcgo_request(method, url, body, hdrs *C.char, result **C.hc_result) C.int {
	return request(result, func(e *engine.Engine) *engine.Result {
		return e.Request(C.GoString(method), C.GoString(url), cStringBytes(body), C.GoString(hdrs))
	})
}

//export hcgo_get_redirect
func hcgo_get_redirect(con *C.char, result **C.hc_result) C.int {
	return request(result, func(e *engine.Engine) *engine.Result {
		if con == nil {
			return refused("con is NULL")
		}
		url, ret := e.GetRedirect(C.GoString(con))
		if ret < 0 {
			return &engine.Result{Ret: -1, Refusal: engine.UnknownConnection,
				Message: "No cURL connection found: " + C.GoString(con)}
		}
		return &engine.Result{Ret: ret, Body: []byte(url), BodyKept: true, EffectiveURL: url}
	})
}

//export hcgo_get_content_type
func hcgo_get_content_type(con *C.char, result **C.hc_result) C.int {
	return request(result, func(e *engine.Engine) *engine.Result {
		if con == nil {
			return refused("con is NULL")
		}
		ct, ok := e.ContentType(C.GoString(con))
		if !ok {
			return &engine.Result{Ret: -1, Refusal: engine.UnknownConnection,
				Message: "No cURL connection found: " + C.GoString(con)}
		}
		return &engine.Result{Ret: 1, Body: []byte(ct), BodyKept: true, ContentType: ct}
	})
}

//export hcgo_background_submit
func hcgo_background_submit(pool, url, options, body *C.char, bodyLen C.size_t, id *C.hc_request_id,
	errbuf *C.char, errlen C.size_t) (code C.int) {
	defer recoverCode(&code, func(msg string) { copyText(errbuf, errlen, msg) })
	fail := func(c C.int, msg string) C.int {
		copyText(errbuf, errlen, msg)
		return c
	}
	lib, c := loaded()
	if c != C.HC_OK {
		return fail(c, C.GoString(C.hc_strerror(C.hc_code(c))))
	}
	data, ok := goBytes(body, bodyLen)
	switch {
	case id == nil:
		return fail(C.HC_E_INVALID, "id is NULL")
	case !ok:
		return fail(C.HC_E_INVALID, "body is NULL or longer than 1 GiB")
	case pool == nil:
		return fail(C.HC_E_INVALID, engine.ErrBadIDParameter.Error())
	}
	n, err := lib.eng.SubmitRequest(C.GoString(pool), optString(url), cStringBytes(options), data, body != nil)
	if err != nil {
		return fail(submitCode(err), err.Error())
	}
	*id = C.hc_request_id(n)
	return C.HC_OK
}

//export hcgo_background_poll
func hcgo_background_poll(timeoutMs C.int, result **C.hc_background_result) C.int {
	return withLibrary(func(lib *library) C.int {
		if result == nil {
			return C.HC_E_INVALID
		}
		r := lib.eng.Poll(time.Duration(timeoutMs) * time.Millisecond)
		if r == nil {
			return C.HC_E_AGAIN
		}
		if *result = newCBackgroundResult(r); *result == nil {
			return C.HC_E_NOMEM
		}
		lib.eng.Release(r) // copied into the C block: its memory may hold a later result
		return C.HC_OK
	})
}

//export hcgo_background_fd
func hcgo_background_fd(fd *C.int) C.int {
	return withLibrary(func(lib *library) C.int {
		if fd == nil {
			return C.HC_E_INVALID
		}
		*fd = C.int(lib.eng.ReadyFD())
		return C.HC_OK
	})
}

//export hcgo_background_cancel
func hcgo_background_cancel(id C.hc_request_id) C.int {
	return withLibrary(func(lib *library) C.int {
		if lib.eng.Cancel(uint64(id)) != nil {
			return C.HC_E_BAD_HANDLE
		}
		return C.HC_OK
	})
}

//export hcgo_shutdown
func hcgo_shutdown(graceMs C.int) C.int {
	return withLibrary(func(lib *library) C.int {
		lib.eng.Shutdown(time.Duration(max(graceMs, 0)) * time.Millisecond)
		stopProfiles() // only in a -tags hcprofile build (profile.go)
		return C.HC_OK
	})
}

//export hcgo_curlerror
func hcgo_curlerror(code C.int) *C.char {
	return curlErrorText(int(code))
}

// hcgo_yield lets the scheduler reschedule the calling thread's goroutine: capi.c's
// hc_stay_scheduled calls it every few milliseconds on a thread that keeps calling hc.
//
//export hcgo_yield
func hcgo_yield() { runtime.Gosched() }

// request runs one synchronous call on the initialised engine, stores its answer in
// *result and returns Kamailio's return value. Everything fn does, argument conversion
// included, is covered by the recover.
func request(result **C.hc_result, fn func(*engine.Engine) *engine.Result) (ret C.int) {
	defer recoverResult(&ret, result)
	lib, c := loaded()
	if c != C.HC_OK {
		return failResult(result, c, "")
	}
	return putResult(result, fn(lib.eng))
}

// withLibrary runs fn on the initialised library and returns its hc_code; a panic
// becomes HC_E_INTERNAL.
func withLibrary(fn func(*library) C.int) (code C.int) {
	defer recoverCode(&code, nil)
	lib, c := loaded()
	if c != C.HC_OK {
		return c
	}
	return fn(lib)
}

// refused is the -1 answer for an argument the engine cannot take.
func refused(msg string) *engine.Result {
	return &engine.Result{Ret: -1, Refusal: engine.InvalidRequest, Message: msg}
}

// optString maps a C string to an engine.OptString: NULL is "not set", unlike "".
func optString(s *C.char) engine.OptString {
	if s == nil {
		return engine.OptString{}
	}
	return engine.Some(C.GoString(s))
}

// cStringBytes copies a NUL-terminated C string; NULL gives nil.
func cStringBytes(s *C.char) []byte {
	if s == nil {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(s), C.int(C.strlen(s)))
}

// This file owns the reuse of background requests' memory: the spec that
// ParseBackgroundRequest makes (with its parsed URL inside it) and the result that the
// event loop delivers (with one buffer holding its header block and body). The loop
// reuses its own transfers itself (bgloop.go's newTransfer).
//
// Why: the garbage of a request sets how often Go's collector runs, and the library
// runs it often (libhc sets GOGC 25, so that the heap stays small; library.go). At 64 in
// flight a request left 1.9 KB behind: a collection every 540 requests, each with its
// stop-the-world phases and mark work on the host's cores. With this reuse (and no
// closure for its pool limits) it leaves about 265 bytes, a collection every 3 500
// requests, and the client spends 3–6 % less CPU per request (BENCHMARKS.md, session 16)
// without raising the heap as a higher GOGC would.
//
// The rule that makes reuse safe is single ownership at the hand-back: a spec is reused
// only after the event loop finished its job (nothing else reads a finished job's spec,
// and only the engine made it), and a result only when its receiver says it is done
// with it (Release; libhc's export copies it into C memory first).

package engine

import "sync"

// maxPooledResultMem is the largest result buffer kept for reuse: bodies that need more
// are rare, and a pool must not pin large buffers.
const maxPooledResultMem = 8 << 10

var (
	specPool   = sync.Pool{New: func() any { return new(BackgroundSpec) }}
	resultPool = sync.Pool{New: func() any { return new(BackgroundResult) }}
)

// newSpec returns a spec with the plugin's defaults, in the memory of a finished one when
// there is one.
func newSpec() *BackgroundSpec {
	s := specPool.Get().(*BackgroundSpec)
	*s = BackgroundSpec{
		Method:         "GET",
		ConnectTimeout: DefaultConnectTimeout,
		VerifyPeer:     true,
		VerifyHost:     true,
		pooled:         true,
	}
	return s
}

// recycleSpec makes s available to newSpec, if newSpec made it. Its fields are cleared
// now, so that the pool holds no request's headers or body.
func recycleSpec(s *BackgroundSpec) {
	if s == nil || !s.pooled {
		return
	}
	*s = BackgroundSpec{}
	specPool.Put(s)
}

// newResult returns an empty result; mem, its buffer for the header block and body, is
// empty with the capacity of a released result's.
func newResult() *BackgroundResult {
	return resultPool.Get().(*BackgroundResult)
}

// Release tells the engine that the caller is done with r, a result of Poll: its memory
// may hold a later result. r must not be used afterwards, nor released twice. Calling
// it is optional: a result that is not released is garbage collected.
func (e *Engine) Release(r *BackgroundResult) {
	if r == nil {
		return
	}
	mem := r.mem
	if cap(mem) > maxPooledResultMem {
		mem = nil
	}
	*r = BackgroundResult{mem: mem[:0]}
	resultPool.Put(r)
}

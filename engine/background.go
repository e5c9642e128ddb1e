// This file owns background (asynchronous) requests, Halon http-background's contract
// with its bugs designed out: named pools whose max_total and max_host limits are both
// enforced, a bounded queue that refuses instead of blocking the submitter, completions
// delivered on the host's own thread (Poll) with a descriptor that is readable while
// results wait (ReadyFD), cancellation, and a shutdown with a grace period. Every accepted
// request produces exactly one result, whatever ends it: a response, a transport error, a
// timeout, a cancel or the shutdown. How one request is performed is bgtransfer.go's.

package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// DefaultQueue is a pool's queue length when its settings give none: the number of
// requests accepted and not yet finished (waiting or in flight).
const DefaultQueue = 4096

// Errors of Submit and Cancel. The texts of refused submissions follow Halon where
// Halon has one.
var (
	ErrUnknownPool    = errors.New("Missing ID in configuration")
	ErrQueueFull      = errors.New("queue full")
	ErrShuttingDown   = errors.New("shutting down: no new requests are accepted")
	ErrUnknownRequest = errors.New("unknown or finished request id")
)

// Outcome says what ended a background request.
type Outcome int

const (
	Completed Outcome = iota // a response arrived (any status) or the transfer failed
	Cancelled                // Cancel was called before it finished
	ShutDown                 // Shutdown's grace period ran out before it finished
)

// Timings are measured from the submission; zero when the phase did not happen.
type Timings struct {
	Queue     time.Duration // waiting for the pool's max_total/max_host limits
	Connect   time.Duration // TCP connect done (0 on a reused connection)
	TLS       time.Duration // TLS handshake done (0 without TLS or on reuse)
	FirstByte time.Duration // first response byte
	Total     time.Duration // result ready
}

// BackgroundResult is the one result of a background request: Halon's {status, content}
// or {error}, plus what Halon lacks (headers, effective URL, version, timings).
type BackgroundResult struct {
	ID           uint64
	Outcome      Outcome
	Status       int    // HTTP status of the final response; 0 with Error
	Content      []byte // the body, binary-safe; nil with Error
	CurlCode     int    // libcurl-compatible code; 0 on success
	Error        string // libcurl 7.88.1's curl_easy_strerror text; "" on success
	Detail       string // more about Error (never a password)
	Header       []byte // header lines of the final response, "Name: value\r\n"...
	EffectiveURL string
	HTTPVersion  string
	Timings      Timings

	ContentExternal bool // Content is BodyAllocator memory, owned by the receiver (bodyalloc.go)

	mem []byte // the engine's buffer that holds Header and Content, reused after Release
}

// background is the Engine's asynchronous side.
type background struct {
	pools map[string]*bgPool
	done  completions
	work  chan *job // hands a new job to an idle worker (unbuffered: only if one waits)

	mu     sync.Mutex
	jobs   map[uint64]*job // accepted and not finished
	closed bool
	nextID atomic.Uint64
	active sync.WaitGroup // accepted jobs not finished (goroutines and the loop's)
	loop   *loop          // the event loop (bgloop.go); nil when background_loop is 0
}

// bgPool is one named pool.
type bgPool struct {
	cfg   PoolConfig
	slots *semaphore.Weighted // the queue: accepted and not finished
	total *semaphore.Weighted // max_total; nil = no limit

	mu    sync.Mutex
	hosts map[string]*hostSlot // max_host per host:port in use; empty when no limit
	conns *connPool            // idle connections of the pool, shared by its requests
	freed func()               // told when limits are given back (the loop's); nil: none
}

// job is one accepted request.
type job struct {
	id        uint64
	pool      *bgPool
	spec      *BackgroundSpec
	submitted time.Time
	finished  atomic.Bool // set by the one completion that counts
	stop      stopHook    // stops the transfer's I/O on a cancel or shutdown

	loopURL  *reqURL        // set when the loop runs the job (bgloop.go)
	loopAddr netip.AddrPort // the address it connects to
	handoff  *handoff       // what the loop passes on when it hands the job over

	// The context of a transfer on the goroutine path (dispatch makes it): a job that the
	// loop completes never needs one, which saves its two allocations.
	ctxMu     sync.Mutex
	ctx       context.Context
	cancelCtx context.CancelCauseFunc
	stopCause error // a stop that came before the context
}

// newContext gives j the context of its transfer; one stopped already is born done.
func (j *job) newContext() {
	ctx, cancel := context.WithCancelCause(context.Background())
	j.ctxMu.Lock()
	j.ctx, j.cancelCtx = ctx, cancel
	cause := j.stopCause
	j.ctxMu.Unlock()
	if cause != nil {
		cancel(cause)
	}
}

// cancel ends j's context with cause (nil: the job is over), now or as soon as it has one.
func (j *job) cancel(cause error) {
	j.ctxMu.Lock()
	fn := j.cancelCtx
	if fn == nil && cause != nil && j.stopCause == nil {
		j.stopCause = cause
	}
	j.ctxMu.Unlock()
	if fn != nil {
		fn(cause)
	}
}

// handoff is what the loop has done for a job it hands to the goroutine path.
type handoff struct {
	limits  limits  // the pool limits it took; the zero value: not taken
	sent    *pconn  // the connection the request was written on; nil: nothing sent
	fresh   bool    // the first connection must be a new one (a kept one died)
	timings Timings // as far as they went
}

// stopHook interrupts a job's transfer when the job is cancelled or shut down. It does
// for the transfer what context.AfterFunc on the job's context would, without the
// context's child bookkeeping (four allocations and two locks per request).
type stopHook struct {
	mu      sync.Mutex
	stopped bool
	x       *xfer // the running transfer; nil before and after it
}

// fire stops the job: the running transfer's blocked I/O fails at once, and a transfer
// that starts later is interrupted as it attaches.
func (h *stopHook) fire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	if h.x != nil {
		h.x.interrupt()
	}
}

// attach makes x the transfer that fire interrupts.
func (h *stopHook) attach(x *xfer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.x = x
	if h.stopped {
		x.interrupt()
	}
}

// detach ends attach: once it returns no interrupt runs or will run on x, whose
// connections may then go back to the pool.
func (h *stopHook) detach() {
	h.mu.Lock()
	h.x = nil
	h.mu.Unlock()
}

// Causes given to a job's context, so the transfer can tell why it was stopped.
var (
	errCancelled = errors.New("cancelled by hc_background_cancel")
	errShutdown  = errors.New("failed by hc_shutdown after the grace period")
)

func newBackground(e *Engine, pools []PoolConfig) (*background, error) {
	b := &background{pools: make(map[string]*bgPool, len(pools)), jobs: make(map[uint64]*job),
		work: make(chan *job)}
	for _, pc := range pools {
		queue := pc.Queue
		if queue == 0 {
			queue = DefaultQueue
		}
		// Every connection the pool may have in use can be kept idle for the next
		// request, as libcurl's multi handle keeps its transfers' connections (its cache
		// holds four per easy handle); a smaller cache would close and redial most of
		// them under a full load.
		p := &bgPool{cfg: pc, slots: semaphore.NewWeighted(int64(queue)),
			hosts: make(map[string]*hostSlot), conns: &connPool{maxIdle: max(maxIdlePerConnection, pc.MaxTotal)}}
		if pc.MaxTotal > 0 {
			p.total = semaphore.NewWeighted(int64(pc.MaxTotal))
		}
		b.pools[pc.ID] = p
	}
	if err := b.done.init(); err != nil {
		return nil, err
	}
	if !e.cfg.NoBackgroundLoop {
		l, err := newLoop(e, b)
		if err != nil {
			return nil, err
		}
		b.loop = l
		b.done.pushed = l.resultPushed
	}
	return b, nil
}

// SubmitRequest validates a Halon-style request and submits it. The pool is checked
// before the arguments, as the plugin does, so the first problem is the one reported.
// An unset url is Halon's missing argument.
func (e *Engine) SubmitRequest(pool string, url OptString, options, body []byte, bodySet bool) (uint64, error) {
	if _, ok := e.bg.pools[pool]; !ok {
		return 0, ErrUnknownPool
	}
	if !url.Set {
		return 0, ErrBadURLParameter
	}
	spec, err := ParseBackgroundRequest(url.Value, options, body, bodySet)
	if err != nil {
		return 0, err
	}
	return e.Submit(pool, spec)
}

// Submit accepts a request on the named pool and returns its id at once; it never
// blocks. spec is owned by the engine from here on.
func (e *Engine) Submit(pool string, spec *BackgroundSpec) (uint64, error) {
	b := e.bg
	p, ok := b.pools[pool]
	if !ok {
		return 0, ErrUnknownPool
	}
	var loopURL *reqURL
	var loopAddr netip.AddrPort
	if b.loop != nil {
		if u, ap, ok := b.loop.accepts(spec); ok {
			loopURL, loopAddr = u, ap
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, ErrShuttingDown
	}
	if !p.slots.TryAcquire(1) {
		return 0, ErrQueueFull
	}
	j := &job{id: b.nextID.Add(1), pool: p, spec: spec, submitted: time.Now(), loopURL: loopURL, loopAddr: loopAddr}
	b.jobs[j.id] = j
	b.active.Add(1)
	if loopURL != nil {
		b.loop.add(j)
	} else {
		e.dispatch(j)
	}
	return j.id, nil
}

// dispatch runs j on a goroutine: an idle worker's, or a new one.
func (e *Engine) dispatch(j *job) {
	j.newContext()
	select {
	case e.bg.work <- j:
	default:
		go e.worker(j)
	}
}

// workerIdle is how long a worker goroutine waits for another job before it ends.
const workerIdle = time.Second

// worker runs j, then the next jobs handed to it, until none comes for workerIdle. A
// goroutine per job would grow a fresh stack for every request; a worker keeps its own.
func (e *Engine) worker(j *job) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		e.run(j)
		idle.Reset(workerIdle)
		select {
		case j = <-e.bg.work:
		case <-idle.C:
			return
		}
	}
}

// run performs a job on its own goroutine and delivers its result. A panic in the
// transfer becomes an error result: it must neither reach the host nor lose the result.
func (e *Engine) run(j *job) {
	res := func() (res *BackgroundResult) {
		defer func() {
			if v := recover(); v != nil {
				res = errorResult(newCurlError(curlAbortedByCallback, fmt.Sprintf("internal error: %v", v)))
			}
		}()
		return e.perform(j)
	}()
	e.finishJob(j, res)
}

// finishJob delivers res as j's result, unless j was cancelled or shut down meanwhile,
// and frees what j held.
func (e *Engine) finishJob(j *job, res *BackgroundResult) {
	b := e.bg
	// The queue slot is free before the result can be seen: a host that submits one
	// request per result it polls must never meet a full queue.
	j.pool.slots.Release(1)
	if !b.complete(j, res, Completed) {
		e.discardBody(res.Content, res.ContentExternal)
	}
	j.cancel(nil)
	b.active.Done()
}

// complete delivers res as j's one result; later completions of the same job are
// dropped. It reports whether res was the one.
func (b *background) complete(j *job, res *BackgroundResult, how Outcome) bool {
	if !j.finished.CompareAndSwap(false, true) {
		return false
	}
	res.ID, res.Outcome = j.id, how
	res.Timings.Total = time.Since(j.submitted)
	b.mu.Lock()
	delete(b.jobs, j.id)
	b.mu.Unlock()
	b.done.push(res)
	return true
}

// Cancel ends a request that has not finished: its result (Outcome Cancelled, curl code
// 42) is delivered at once and its transfer is stopped.
func (e *Engine) Cancel(id uint64) error {
	b := e.bg
	b.mu.Lock()
	j, ok := b.jobs[id]
	b.mu.Unlock()
	if !ok || !b.complete(j, stopResult(errCancelled), Cancelled) {
		return ErrUnknownRequest
	}
	j.cancel(errCancelled)
	j.stop.fire()
	if j.loopURL != nil {
		b.loop.endedElsewhere.Store(true)
		if b.loop.sleeping.Load() {
			b.loop.wake() // the loop frees its connection and limits at once
		}
	}
	return nil
}

// Shutdown stops accepting requests, waits up to grace for the accepted ones to finish,
// then fails the rest (Outcome ShutDown) and waits for their transfers to stop. Results
// stay available to Poll. Calling it again only waits again.
func (e *Engine) Shutdown(grace time.Duration) {
	b := e.bg
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	idle := make(chan struct{})
	go func() { b.active.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-time.After(grace):
		b.mu.Lock()
		left := make([]*job, 0, len(b.jobs))
		for _, j := range b.jobs {
			left = append(left, j)
		}
		b.mu.Unlock()
		for _, j := range left {
			b.complete(j, stopResult(errShutdown), ShutDown)
			j.cancel(errShutdown)
			j.stop.fire()
		}
		if b.loop != nil {
			b.loop.endedElsewhere.Store(true)
			b.loop.wake()
		}
		<-idle
	}
	for _, p := range b.pools {
		p.conns.closeAll()
	}
	if b.loop != nil {
		b.loop.close()
	}
}

// Poll returns the next finished result, waiting up to timeout for one (0: do not wait;
// negative: wait without limit). It returns nil when none arrived in time.
func (e *Engine) Poll(timeout time.Duration) *BackgroundResult {
	if l := e.bg.loop; l != nil {
		return l.poll(timeout)
	}
	return e.bg.done.pop(timeout)
}

// ReadyFD is a descriptor that is readable while results wait to be polled, for epoll,
// libevent or asyncio. The host must neither read nor close it.
func (e *Engine) ReadyFD() int { return e.bg.done.exportFD() }

// Pending is the number of accepted requests without a result yet.
func (e *Engine) Pending() int {
	b := e.bg
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.jobs)
}

// stopResult is the result of a request stopped by a cancel or the shutdown.
func stopResult(cause error) *BackgroundResult {
	return errorResult(newCurlError(curlAbortedByCallback, cause.Error()))
}

// transferErrorResult is the result of a transfer that failed: Detail carries curl's
// text in front of what happened, as the transfer's own message does.
func transferErrorResult(ce *curlError) *BackgroundResult {
	return errorResult(&curlError{code: ce.code, msg: ce.Error()})
}

// errorResult is Halon's {error} for a curl error.
func errorResult(ce *curlError) *BackgroundResult {
	return &BackgroundResult{CurlCode: ce.code, Error: CurlStrerror(ce.code), Detail: ce.msg}
}

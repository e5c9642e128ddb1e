// This file owns the event loop of background requests, libcurl's multi interface in Go:
// plain-HTTP requests to an IP address run as non-blocking state machines (connect,
// write, read) over one level-triggered epoll set, driven by whichever thread waits for
// results. That is the host's own thread inside Poll, as curl_multi_poll runs transfers
// on its caller's thread, or, when no host thread has polled for takeoverAfter, the
// loop's driver goroutine.
//
// Why: on a goroutine per transfer every request crosses threads three times (the
// submit readies a worker, Go's poller thread wakes it for the response, the result
// wakes the host), and each crossing is a context switch that libcurl's single thread
// does not make (BENCHMARKS.md). A loop driven by the host makes none.
//
// The loop completes only the plain case: a response of known length (up to
// loopMaxBody) that needs nothing more. Anything else is handed to the goroutine path
// (bgtransfer.go) at a point where nothing is lost or done twice: before the request is
// written, or after it, with the bytes received so far in front of the connection's
// reader, so that the shared transfer code reads the response and produces exactly the
// result and error it produces for every other request.

package engine

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const (
	// loopMaxBody is the largest response body the loop reads itself; a larger one is
	// read by the goroutine path, in place into the result's memory (bodyalloc.go).
	loopMaxBody = 64 << 10
	// loopMaxRequest is the largest request (head and body) the loop writes.
	loopMaxRequest = 64 << 10
	// takeoverAfter is how long transfers may wait for a host thread to drive them
	// before the driver goroutine does.
	takeoverAfter = 2 * time.Millisecond
	// driverWait bounds one wait of the driver goroutine, so that it notices a host
	// thread that wants to lead.
	driverWait = 10 * time.Millisecond
	// hostWaitSlice bounds a polling host thread's wait while another thread leads, so
	// that it takes the lead soon after the other lets it go.
	hostWaitSlice = time.Millisecond
)

// A leader that would sleep in epoll_wait first polls the set without sleeping for up to
// spinFor, once spinAfter waits in a row have each ended within shortWait: sockets then
// become ready every few µs, and a sleep and its wake-up cost the host's thread more
// than the spin, while the server's answers wait for the wake-up. The conditions keep
// the spin to that case, measured against no spin (BENCHMARKS.md):
//   - at 64 and 256 in flight on loopback, 1.05-1.06x the rate for 0-2 % more CPU per
//     request;
//   - one request in flight to a fast server (waits of 40-80 µs): with waits under 50 µs
//     counted as short, 1.34x the rate but 15 % more CPU, so only waits well under a
//     sleep's cost count; at 25 µs it does not spin there;
//   - a slow server on new connections (a quick connect, then the answer after 400 µs):
//     a spin after every short wait cost 20 % more CPU per request, four in a row none.
const (
	spinFor   = 50 * time.Microsecond
	shortWait = 25 * time.Microsecond
	spinAfter = 4
)

// Who drives the loop (loop.lead).
const (
	leadNone int32 = iota
	leadHost
	leadDriver
)

// epoll event bits (syscall names them for some architectures only).
const (
	epollIn    = 0x1
	epollOut   = 0x4
	epollErr   = 0x8
	epollHup   = 0x10
	epollRDHup = 0x2000
)

// loop is the event loop of a background. The fields after mu are the leader's alone:
// only the thread that holds lead touches them.
type loop struct {
	e      *Engine
	epfd   int
	wakeFD int // an eventfd in the set: wakes a leader sleeping in epoll_wait
	epoch  time.Time

	lead     atomic.Int32 // leadNone, leadHost or leadDriver
	sleeping atomic.Bool  // the leader is in (or about to enter) epoll_wait
	woken    atomic.Bool  // a wake-up is written and not yet read
	lastLead atomic.Int64 // when a host thread last led, in ns since epoch
	waiting  atomic.Int32 // host threads in Poll that could not lead
	busy     atomic.Int32 // jobs in the loop: pending, blocked or running
	nblocked atomic.Int32 // len(blocked), for limitFreed
	kick     chan struct{}
	quit     chan struct{}
	stats    struct{ completed, handedOver, gaveUp atomic.Int64 } // how jobs left the loop
	spins    struct{ tried, caught atomic.Int64 }                 // the leader's spins; caught: found a socket ready

	// endedElsewhere is set when Cancel or Shutdown ends one of the loop's jobs: the
	// next round's sweep must look for it.
	endedElsewhere atomic.Bool

	mu       sync.Mutex
	pending  []*job // submitted, not yet started by the leader
	npending atomic.Int32
	stopped  bool

	byFD    []*lconn // the loop's connections by descriptor
	running []*ltransfer
	blocked []*job // waiting for their pool's limits, in submission order
	// checkAt is when sweep must next look for a deadline: no blocked job's or running
	// transfer's deadline is earlier (it may be earlier than all of them, never later).
	// Zero: none has a deadline.
	checkAt time.Time
	idle    map[idleKey][]*lconn
	nidle   map[*bgPool]int
	events  []syscall.EpollEvent
	bufs    [][]byte // free buffers of loopBufSize
	taken   []*job   // startPending's scratch
	// Transfers ended in this round, reused from the next one: an event later in the
	// same round may still name one (recycle.go's why).
	ended []*ltransfer
	spare []*ltransfer // ended transfers, ready for reuse
	// shortWaits counts the last waits in a row that ended within shortWait (see spinFor).
	shortWaits int
}

const loopBufSize = 4 << 10

// maxSpareTransfers bounds the ended transfers kept for reuse, and maxSpareHeader the
// header-block memory one keeps: the spares are never given back, so that a server's
// large heads must not stay pinned in them (a usual head's fields take 200–500 bytes).
const (
	maxSpareTransfers = 1024
	maxSpareHeader    = 2 << 10
)

// idleKey groups kept connections: a pool's connections to one address.
type idleKey struct {
	pool *bgPool
	ap   netip.AddrPort
}

// lconn is one connection of the loop.
type lconn struct {
	fd        int
	key       idleKey
	events    uint32     // what it is registered for
	t         *ltransfer // the transfer using it; nil while idle
	reused    bool
	connected time.Time
}

// Phases of a transfer in the loop.
const (
	phaseConnecting = iota
	phaseWriting
	phaseReading
)

// ltransfer is one request in the loop.
type ltransfer struct {
	j         *job
	u         *reqURL
	c         *lconn
	limits    limits // the pool limits it holds
	phase     int
	out       []byte // the request
	sent      int
	in        []byte // the response so far
	scanned   int    // how much of in has been searched for the end of the head
	resp      response
	headLen   int       // 0 until resp holds the parsed head
	hdr       []byte    // memory for resp's header block, kept when the transfer is reused
	deadline  time.Time // total timeout; zero: none
	connectBy time.Time // while connecting
	timings   Timings
	index     int  // in running; -1 when not running
	ended     bool // its result is delivered
}

func newLoop(e *Engine, b *background) (*loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	r, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("eventfd2", errno)
	}
	l := &loop{e: e, epfd: epfd, wakeFD: int(r), epoch: time.Now(),
		kick: make(chan struct{}, 1), quit: make(chan struct{}),
		idle: make(map[idleKey][]*lconn), nidle: make(map[*bgPool]int),
		events: make([]syscall.EpollEvent, 128)}
	ev := syscall.EpollEvent{Events: epollIn, Fd: int32(l.wakeFD)}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, l.wakeFD, &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(l.wakeFD)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	for _, p := range b.pools {
		p.freed = l.limitFreed
	}
	go l.drive()
	return l, nil
}

// accepts reports whether the loop can run spec: plain HTTP to an IP address, directly,
// with nothing that needs more than one exchange (no redirects, no authentication), a
// method and body the loop writes as curl would, and a request small enough for one
// buffer.
func (l *loop) accepts(spec *BackgroundSpec) (*reqURL, netip.AddrPort, bool) {
	u := spec.parsed
	if spec.URLError != 0 || u == nil || spec.parsedFrom != spec.URL || u.scheme != "http" || u.hasUser ||
		spec.Proxy.Set || l.e.cfg.ProxyFromEnv || spec.SourceIP.Set || spec.Username.Set ||
		spec.Redirects != 0 || spec.CustomMethod {
		return nil, netip.AddrPort{}, false
	}
	switch spec.Body.Kind {
	case BodyNone:
	case BodyString:
		if len(spec.Body.Data) > loopMaxRequest/2 {
			return nil, netip.AddrPort{}, false
		}
	default:
		return nil, netip.AddrPort{}, false
	}
	ip, err := netip.ParseAddr(u.hostname)
	if err != nil || ip.Zone() != "" || u.port <= 0 || u.port > 65535 {
		return nil, netip.AddrPort{}, false
	}
	if l.e.backgroundTransport(spec).setoptErr != nil {
		return nil, netip.AddrPort{}, false
	}
	return u, netip.AddrPortFrom(ip, uint16(u.port)), true
}

// add takes an accepted job; the leader starts it in its next round.
func (l *loop) add(j *job) {
	l.mu.Lock()
	l.pending = append(l.pending, j)
	l.mu.Unlock()
	l.npending.Add(1)
	if l.busy.Add(1) == 1 {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	if l.sleeping.Load() {
		l.wake()
	}
}

// wake makes a leader sleeping in epoll_wait return.
func (l *loop) wake() {
	if l.woken.CompareAndSwap(false, true) {
		one := uint64(1)
		_, _ = syscall.Write(l.wakeFD, (*[8]byte)(unsafe.Pointer(&one))[:])
	}
}

// resultPushed is told of every result queued: a host thread that leads sleeps in
// epoll_wait, not on the results' pipe, and must see results of the goroutine path.
func (l *loop) resultPushed() {
	if l.sleeping.Load() && l.lead.Load() == leadHost {
		l.wake()
	}
}

func (l *loop) now() int64 { return int64(time.Since(l.epoch)) }

// poll is Engine.Poll with the loop: the calling thread drives the loop while it waits,
// unless another thread does.
func (l *loop) poll(timeout time.Duration) *BackgroundResult {
	done := &l.e.bg.done
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		if r := done.tryPop(); r != nil {
			return r
		}
		left := time.Duration(-1)
		if timeout >= 0 {
			if left = time.Until(deadline); timeout == 0 || left < 0 {
				left = 0
			}
		}
		if l.busy.Load() > 0 && l.lead.CompareAndSwap(leadNone, leadHost) {
			l.lastLead.Store(l.now())
			l.round(left, leadHost)
			l.lastLead.Store(l.now())
			l.lead.Store(leadNone)
			if r := done.tryPop(); r != nil || left == 0 {
				return r
			}
			continue
		}
		if left == 0 {
			return nil
		}
		// Nothing to drive, or another thread drives: wait for a result, in slices
		// while the loop has work so that this thread can take the lead.
		// Only a thread that waits in slices counts as waiting to lead: one that waits
		// for goroutine results alone must not keep the driver from the loop's work.
		wait, slice := deadline, l.busy.Load() > 0
		if slice {
			wait = time.Now().Add(hostWaitSlice)
			if left > 0 && left < hostWaitSlice {
				wait = deadline
			}
			l.waiting.Add(1)
		}
		err := done.wait(wait)
		if slice {
			l.waiting.Add(-1)
		}
		if err != nil && err != os.ErrDeadlineExceeded {
			return done.tryPop()
		}
	}
}

// drive is the driver goroutine: it runs the loop while it has work and no host thread
// has led for takeoverAfter, and yields as soon as a host thread waits to lead.
func (l *loop) drive() {
	for {
		if l.busy.Load() == 0 {
			select {
			case <-l.kick:
			case <-l.quit:
				return
			}
			continue
		}
		since := time.Duration(l.now() - l.lastLead.Load())
		if since >= takeoverAfter && l.waiting.Load() == 0 && l.lead.CompareAndSwap(leadNone, leadDriver) {
			for l.busy.Load() > 0 && l.waiting.Load() == 0 {
				l.round(driverWait, leadDriver)
			}
			l.lead.Store(leadNone)
			continue
		}
		// A host thread drives, or did a moment ago: look again a little later.
		nap := max(takeoverAfter-since, takeoverAfter/4)
		select {
		case <-time.After(nap):
		case <-l.quit:
			return
		}
	}
}

// close ends the driver goroutine and closes the loop's idle connections (release
// closes its descriptors). Only after the background has no job left.
func (l *loop) close() {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	l.stopped = true
	l.mu.Unlock()
	close(l.quit)
	for !l.lead.CompareAndSwap(leadNone, leadHost) {
		time.Sleep(100 * time.Microsecond)
	}
	for key, list := range l.idle {
		for _, c := range list {
			l.closeConn(c)
		}
		delete(l.idle, key)
	}
	l.lead.Store(leadNone)
}

// release closes the loop's own descriptors once close has stopped it; before, it does
// nothing (a wake-up must never be written to a descriptor number reused meanwhile).
func (l *loop) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped || l.epfd < 0 {
		return
	}
	syscall.Close(l.epfd)
	syscall.Close(l.wakeFD)
	l.epfd = -1
}

// round starts the pending jobs, waits up to wait (negative: no limit) for the loop's
// sockets (spinning first after a run of short waits: spinFor), and advances every
// transfer that can move.
func (l *loop) round(wait time.Duration, who int32) {
	// Ended transfers give their limits back before the blocked jobs try them.
	now := time.Now()
	if l.sweepDue(now) {
		l.sweep(now)
	}
	l.reuseEnded()
	l.startPending()
	if next := l.checkAt; !next.IsZero() && (wait < 0 || next.Sub(now) < wait) {
		wait = max(next.Sub(now), 0)
	}
	ms := -1
	if wait >= 0 {
		ms = int((wait + time.Millisecond - 1) / time.Millisecond)
	}
	n, err, began := 0, error(nil), int64(0)
	if ms != 0 { // a round that may wait: its wait is timed for shortWaits
		began = l.now()
		if l.shortWaits >= spinAfter {
			l.spins.tried.Add(1)
			if n, err = l.spin(wait, who); n > 0 {
				l.spins.caught.Add(1)
			}
		}
	}
	if n == 0 && err == nil {
		if ms != 0 {
			// Set before the last look: a submission or result after it sees the flag
			// and writes a wake-up.
			l.sleeping.Store(true)
			if l.mustNotSleep(who) {
				ms = 0
			}
		}
		n, err = syscall.EpollWait(l.epfd, l.events, ms)
		l.sleeping.Store(false)
	}
	if ms != 0 {
		if n > 0 && time.Duration(l.now()-began) < shortWait {
			l.shortWaits++
		} else {
			l.shortWaits = 0
		}
	}
	if err != nil {
		n = 0 // EINTR: the next round goes on
	}
	for _, ev := range l.events[:n] {
		fd := int(ev.Fd)
		if fd == l.wakeFD {
			var b [8]byte
			_, _ = syscall.Read(l.wakeFD, b[:])
			l.woken.Store(false)
			continue
		}
		if fd >= len(l.byFD) || l.byFD[fd] == nil {
			continue
		}
		c := l.byFD[fd]
		if c.t == nil {
			l.dropIdle(c) // an idle connection is readable: closed by the server, or garbage
			continue
		}
		l.step(c.t)
	}
}

// mustNotSleep reports whether the leader has work that its wait would delay: jobs
// submitted since the round began, none left to wait for, or (a host thread) results
// to return.
func (l *loop) mustNotSleep(who int32) bool {
	return l.npending.Load() > 0 || l.busy.Load() == 0 || who == leadHost && l.e.bg.done.waiting()
}

// spin looks at the loop's sockets without sleeping, again and again, for up to spinFor
// (wait, if shorter), and returns as soon as one is ready or mustNotSleep.
func (l *loop) spin(wait time.Duration, who int32) (int, error) {
	budget := spinFor
	if wait >= 0 && wait < budget {
		budget = wait
	}
	until := l.now() + int64(budget)
	for {
		// epoll_pwait with a zero timeout cannot block: a raw system call spares the
		// runtime's entersyscall/exitsyscall.
		n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(l.epfd),
			uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
		switch {
		case e == syscall.EINTR:
		case e != 0:
			return 0, e
		case n > 0:
			return int(n), nil
		}
		if l.now() >= until || l.mustNotSleep(who) {
			return 0, nil
		}
	}
}

// limitFreed is told when a job of any kind gives back a pool's limits: jobs blocked
// on them may start.
func (l *loop) limitFreed() {
	if l.nblocked.Load() > 0 && l.sleeping.Load() {
		l.wake()
	}
}

// startPending starts the jobs blocked on their limits, in order, then the jobs
// submitted since the last round.
func (l *loop) startPending() {
	if l.npending.Load() == 0 && len(l.blocked) == 0 {
		return
	}
	l.taken = append(l.taken, l.blocked...)
	clear(l.blocked)
	l.blocked = l.blocked[:0]
	if l.npending.Load() > 0 {
		l.mu.Lock()
		l.taken = append(l.taken, l.pending...)
		clear(l.pending)
		l.pending = l.pending[:0]
		l.npending.Store(0)
		l.mu.Unlock()
	}
	for i, j := range l.taken {
		l.taken[i] = nil
		l.safely(nil, j, func() { l.start(j) })
	}
	l.taken = l.taken[:0]
	l.nblocked.Store(int32(len(l.blocked)))
}

// safely runs f; a panic in it becomes the job's error result instead of reaching the
// host or stopping the loop.
func (l *loop) safely(t *ltransfer, j *job, f func()) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		res := errorResult(newCurlError(curlAbortedByCallback, fmt.Sprintf("internal error: %v", v)))
		if t == nil { // start: the transfer may be running already
			for _, x := range l.running {
				if x.j == j {
					t = x
				}
			}
		}
		if t == nil {
			l.busy.Add(-1)
			l.e.finishJob(j, res)
			return
		}
		l.fail(t, res)
	}()
	f()
}

// start begins a job: its limits, its request, a kept connection or a new one.
func (l *loop) start(j *job) {
	if j.finished.Load() { // cancelled or shut down while pending
		l.finish(j, &BackgroundResult{})
		return
	}
	u, ap := j.loopURL, j.loopAddr
	held, ok := j.pool.tryAcquire(u.originKey())
	if !ok { // the limits are taken: it waits for them, inside its timeout
		l.blocked = append(l.blocked, j)
		if j.spec.Timeout > 0 {
			l.noteDeadline(j.submitted.Add(j.spec.Timeout))
		}
		return
	}
	t := l.newTransfer()
	t.j, t.u, t.limits, t.timings = j, u, held, Timings{Queue: time.Since(j.submitted)}
	if j.spec.Timeout > 0 {
		t.deadline = j.submitted.Add(j.spec.Timeout)
		l.noteDeadline(t.deadline)
	}
	if !l.writeRequest(t) {
		return
	}
	key := idleKey{pool: j.pool, ap: ap}
	if c := l.takeIdle(key); c != nil {
		t.c, c.t = c, t
		t.phase = phaseWriting
		l.track(t)
		l.write(t)
		return
	}
	t.connectBy = time.Now().Add(j.spec.ConnectTimeout)
	if !t.deadline.IsZero() && t.deadline.Before(t.connectBy) {
		t.connectBy = t.deadline
	}
	l.noteDeadline(t.connectBy)
	l.track(t)
	l.connect(t, key)
}

// writeRequest builds t's request as the goroutine path would write it (reqHead); a
// request it would refuse is left to it, to refuse with its own error.
func (l *loop) writeRequest(t *ltransfer) bool {
	spec := t.j.spec
	h := reqHead{
		method:      spec.Method,
		target:      t.u.target(),
		hostPort:    t.u.hostPort(),
		custom:      spec.Headers,
		authAllowed: true,
	}
	var body []byte
	if spec.Body.Kind == BodyString {
		body = spec.Body.Data
		h.post, h.bodyLen = true, len(body)
	}
	if h.check() != nil {
		l.giveUp(t.j, t.limits, false)
		return false
	}
	t.out = append(h.write(l.buf()), body...)
	if len(t.out) > loopMaxRequest {
		l.putBuf(t.out)
		t.out = nil
		l.giveUp(t.j, t.limits, false)
		return false
	}
	return true
}

func (l *loop) buf() []byte {
	if n := len(l.bufs); n > 0 {
		b := l.bufs[n-1]
		l.bufs = l.bufs[:n-1]
		return b
	}
	return make([]byte, 0, loopBufSize)
}

func (l *loop) putBuf(b []byte) {
	if cap(b) == loopBufSize && len(l.bufs) < 512 {
		l.bufs = append(l.bufs, b[:0])
	}
}

func (l *loop) track(t *ltransfer) {
	t.index = len(l.running)
	l.running = append(l.running, t)
}

// detach removes t from the running transfers (if it is one).
func (l *loop) detach(t *ltransfer) {
	if t.index < 0 || t.index >= len(l.running) || l.running[t.index] != t {
		return
	}
	last := l.running[len(l.running)-1]
	l.running[t.index], last.index = last, t.index
	l.running[len(l.running)-1] = nil
	l.running = l.running[:len(l.running)-1]
	t.index = -1
}

// connect starts a non-blocking connect(2) of a new connection for t.
func (l *loop) connect(t *ltransfer, key idleKey) {
	fd, err := newSocket(key.ap)
	if err == nil {
		err = syscall.Connect(fd, sockaddr(key.ap))
		if err == syscall.EINPROGRESS {
			err = nil
		} else if err != nil {
			syscall.Close(fd)
			err = os.NewSyscallError("connect", err)
		}
	}
	if err != nil {
		l.fail(t, connectFailed(key.ap, err))
		return
	}
	c := &lconn{fd: fd, key: key, t: t}
	t.c = c
	l.register(c, epollOut)
}

// register adds c to the epoll set for events.
func (l *loop) register(c *lconn, events uint32) {
	for c.fd >= len(l.byFD) {
		l.byFD = append(l.byFD, nil)
	}
	l.byFD[c.fd] = c
	c.events = events
	ev := syscall.EpollEvent{Events: events, Fd: int32(c.fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		panic(fmt.Sprintf("epoll_ctl add: %v", err)) // safely turns it into the job's error
	}
}

// want changes what c waits for.
func (l *loop) want(c *lconn, events uint32) {
	if c.events == events {
		return
	}
	c.events = events
	ev := syscall.EpollEvent{Events: events, Fd: int32(c.fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		panic(fmt.Sprintf("epoll_ctl mod: %v", err))
	}
}

// unregister takes c out of the loop (its descriptor stays open).
func (l *loop) unregister(c *lconn) {
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	l.byFD[c.fd] = nil
}

func (l *loop) closeConn(c *lconn) {
	if c == nil || c.fd < 0 {
		return
	}
	if c.fd < len(l.byFD) && l.byFD[c.fd] == c {
		// Out of the set before the close: a forked child that still holds the socket
		// would keep the registration alive, and its events would come for ever.
		l.unregister(c)
	}
	syscall.Close(c.fd)
	c.fd = -1
}

// step advances t after events on its connection.
func (l *loop) step(t *ltransfer) {
	l.safely(t, t.j, func() {
		switch t.phase {
		case phaseConnecting:
			l.connected(t)
		case phaseWriting:
			l.write(t)
		case phaseReading:
			l.read(t)
		}
	})
}

// connected finishes a connect: the socket is writable or failed.
func (l *loop) connected(t *ltransfer) {
	c := t.c
	n, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	switch {
	case err != nil:
		err = os.NewSyscallError("getsockopt", err)
	case n == int(syscall.EINPROGRESS) || n == int(syscall.EALREADY):
		return
	case n != 0:
		err = os.NewSyscallError("connect", syscall.Errno(n))
	}
	if err != nil {
		l.fail(t, connectFailed(c.key.ap, err))
		return
	}
	c.connected = time.Now()
	t.timings.Connect = c.connected.Sub(t.j.submitted)
	t.phase = phaseWriting
	l.write(t)
}

// write sends what is left of the request, then waits for the response.
func (l *loop) write(t *ltransfer) {
	c := t.c
	for t.sent < len(t.out) {
		n, e := sendNow(uintptr(c.fd), t.out[t.sent:])
		switch e {
		case 0:
			t.sent += n
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			l.want(c, epollOut)
			return
		}
		// A kept connection that died while idle: the goroutine path retries on a new
		// one, as curl does. On a new connection it is the send error it would meet.
		if c.reused && t.sent == 0 {
			l.fail(t, nil)
			l.giveUp(t.j, t.limits, true)
			return
		}
		err := &net.OpError{Op: "write", Net: "tcp", Addr: net.TCPAddrFromAddrPort(c.key.ap), Err: os.NewSyscallError("write", e)}
		l.fail(t, transferErrorResult(newCurlError(classify(err, phaseSend, false), "sending request: "+errText(err))))
		return
	}
	l.putBuf(t.out)
	t.out = nil
	t.phase = phaseReading
	t.in = l.buf()
	l.want(c, epollIn|epollRDHup)
}

// read takes what arrived and finishes t when its response is complete; anything but
// a plain response goes to the goroutine path with the bytes read so far.
func (l *loop) read(t *ltransfer) {
	c := t.c
	for {
		if len(t.in) == cap(t.in) {
			t.in = append(t.in, 0)[:len(t.in)] // grow
		}
		n, e := recvNow(uintptr(c.fd), t.in[len(t.in):cap(t.in)])
		if e == syscall.EINTR {
			continue
		}
		if e == syscall.EAGAIN {
			return
		}
		if e != 0 || n == 0 {
			var rerr error
			if e != 0 {
				rerr = &net.OpError{Op: "read", Net: "tcp", Addr: net.TCPAddrFromAddrPort(c.key.ap), Err: os.NewSyscallError("read", e)}
			}
			l.handOff(t, rerr)
			return
		}
		full := len(t.in)+n == cap(t.in)
		t.in = t.in[:len(t.in)+n]
		if done := l.parse(t); done {
			return
		}
		if !full {
			return // the rest arrives later: level-triggered, the set says when
		}
	}
}

// parse looks at the response so far. It reports whether t has left the loop.
func (l *loop) parse(t *ltransfer) bool {
	if t.headLen == 0 {
		end, resume := headEnd(t.in, t.scanned)
		if end < 0 {
			t.scanned = resume
			if len(t.in) > maxHeaderLine {
				l.handOff(t, nil) // the shared code's limits decide
				return true
			}
			return false
		}
		if end > readerSize {
			l.handOff(t, nil) // a head this large is rare: the reader's line limits decide
			return true
		}
		resp := &t.resp
		cerr := parseHead(t.in[:end], resp, t.hdr)
		if cerr != nil || resp.status < 200 || resp.chunked || resp.contentLength < 0 && !resp.bodyless() ||
			resp.contentLength > loopMaxBody || t.j.spec.MaxFileSize > 0 && resp.contentLength > t.j.spec.MaxFileSize ||
			l.e.cfg.MaxBodySize > 0 && resp.contentLength > l.e.cfg.MaxBodySize {
			l.handOff(t, nil)
			return true
		}
		t.headLen = end
		t.timings.FirstByte = time.Since(t.j.submitted)
	}
	need := t.headLen
	if !t.resp.bodyless() {
		need += int(t.resp.contentLength)
	}
	if len(t.in) < need {
		return false
	}
	l.complete(t, need)
	return true
}

// complete finishes t, whose response is in t.in[:end].
func (l *loop) complete(t *ltransfer, end int) {
	resp := &t.resp
	res := newResult()
	res.Status, res.EffectiveURL, res.HTTPVersion = resp.status, t.u.String(), resp.proto
	// The header block and a body below the allocator's size share the result's one
	// buffer (recycle.go); a larger body is read as the goroutine path reads it.
	body := t.in[t.headLen:end]
	mem := append(res.mem[:0], resp.header...)
	n := len(mem)
	switch {
	case resp.bodyless():
	case len(body) < minExternalBody:
		mem = append(mem, body...)
		res.Content = mem[n:]
	default:
		sink := bodySink{keep: true, limit: t.j.spec.MaxFileSize, ceiling: l.e.cfg.MaxBodySize, alloc: l.e.alloc}
		sink.presize(resp.contentLength)
		sink.write(body)
		res.Content, res.ContentExternal = sink.buf, sink.external
	}
	res.mem = mem
	if resp.header != nil {
		res.Header = mem[:n:n]
		t.hdr = resp.header[:0] // kept for the transfer's next use, with the room it grew to
	}
	c := t.c
	extra := len(t.in) > end
	l.putBuf(t.in)
	t.in = nil
	l.detach(t)
	t.c, c.t = nil, nil
	l.stats.completed.Add(1)
	if resp.reusable() && !extra {
		l.keep(c)
	} else {
		l.closeConn(c)
	}
	l.end(t, res)
}

// fail takes t out of the loop and closes its connection; with res, it ends t.
func (l *loop) fail(t *ltransfer, res *BackgroundResult) {
	l.detach(t)
	if t.c != nil {
		l.closeConn(t.c)
		t.c = nil
	}
	if res != nil {
		l.end(t, res)
	}
}

// connectFailed is the result of a connect to ap that failed with err, worded as the
// goroutine path's dial words it.
func connectFailed(ap netip.AddrPort, err error) *BackgroundResult {
	oe := &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(ap), Err: err}
	return transferErrorResult(connectError(oe, ap.String(), false))
}

// end delivers t's result and gives back what it held.
func (l *loop) end(t *ltransfer, res *BackgroundResult) {
	if t.ended {
		return
	}
	t.ended = true
	l.ended = append(l.ended, t)
	if t.in != nil {
		l.putBuf(t.in)
		t.in = nil
	}
	if t.out != nil {
		l.putBuf(t.out)
		t.out = nil
	}
	if t.limits.held() {
		t.limits.release()
		t.limits = limits{}
	}
	res.Timings = t.timings
	l.finish(t.j, res)
}

// finish delivers res as the result of j, which leaves the loop for good: no one reads a
// finished job's spec, so its memory may serve a later request (recycle.go).
func (l *loop) finish(j *job, res *BackgroundResult) {
	l.busy.Add(-1)
	l.e.finishJob(j, res)
	spec := j.spec
	j.spec = nil
	recycleSpec(spec)
}

// newTransfer returns an empty transfer, one that ended in an earlier round if any.
func (l *loop) newTransfer() *ltransfer {
	n := len(l.spare)
	if n == 0 {
		return &ltransfer{index: -1}
	}
	t := l.spare[n-1]
	l.spare[n-1] = nil
	l.spare = l.spare[:n-1]
	return t
}

// reuseEnded makes the transfers that ended in the last round available to newTransfer.
func (l *loop) reuseEnded() {
	for i, t := range l.ended {
		l.ended[i] = nil
		if len(l.spare) < maxSpareTransfers {
			hdr := t.hdr[:0]
			if cap(hdr) > maxSpareHeader {
				hdr = nil // a rare large head: the spares must not pin it
			}
			*t = ltransfer{index: -1, hdr: hdr}
			l.spare = append(l.spare, t)
		}
	}
	l.ended = l.ended[:0]
}

// keep makes c an idle connection of its pool, if the pool keeps that many.
func (l *loop) keep(c *lconn) {
	if l.nidle[c.key.pool] >= c.key.pool.conns.maxIdle {
		l.closeConn(c)
		return
	}
	l.idle[c.key] = append(l.idle[c.key], c)
	l.nidle[c.key.pool]++
	c.reused = true
	l.want(c, epollIn|epollRDHup) // a server's close is seen while it is idle
}

// takeIdle returns the most recently kept connection for key, or nil.
func (l *loop) takeIdle(key idleKey) *lconn {
	list := l.idle[key]
	if len(list) == 0 {
		return nil
	}
	c := list[len(list)-1]
	list[len(list)-1] = nil
	l.idle[key] = list[:len(list)-1]
	l.nidle[key.pool]--
	return c
}

// dropIdle closes an idle connection that became readable.
func (l *loop) dropIdle(c *lconn) {
	list := l.idle[c.key]
	for i, x := range list {
		if x == c {
			l.idle[c.key] = append(list[:i], list[i+1:]...)
			l.nidle[c.key.pool]--
			break
		}
	}
	l.closeConn(c)
}

// sweepDue reports whether sweep has work: a job that Cancel or Shutdown ended, or a
// deadline reached. Looking at every transfer in every round instead took a tenth of
// the loop's user time at 256 in flight (BENCHMARKS.md), as it grows with the transfers
// in flight: libcurl keeps its timeouts sorted for the same reason.
func (l *loop) sweepDue(now time.Time) bool {
	return l.endedElsewhere.Load() && l.endedElsewhere.Swap(false) || !l.checkAt.IsZero() && !now.Before(l.checkAt)
}

// noteDeadline tells the loop that a blocked job or a running transfer ends at d.
func (l *loop) noteDeadline(d time.Time) {
	if !d.IsZero() && (l.checkAt.IsZero() || d.Before(l.checkAt)) {
		l.checkAt = d
	}
}

// sweep ends the jobs that were cancelled, shut down or ran out of time, and sets
// checkAt to the earliest deadline of the rest.
func (l *loop) sweep(now time.Time) {
	l.checkAt = time.Time{}
	kept := l.blocked[:0]
	for _, j := range l.blocked {
		switch {
		case j.finished.Load():
			l.finish(j, &BackgroundResult{})
		case j.spec.Timeout > 0 && !now.Before(j.submitted.Add(j.spec.Timeout)):
			res := errorResult(newCurlError(curlTimeout, "timeout reached"))
			res.Timings.Queue = now.Sub(j.submitted) // it ran out while waiting
			l.finish(j, res)
		default:
			kept = append(kept, j)
			if j.spec.Timeout > 0 {
				l.noteDeadline(j.submitted.Add(j.spec.Timeout))
			}
		}
	}
	clear(l.blocked[len(kept):])
	l.blocked = kept
	l.nblocked.Store(int32(len(kept)))
	for i := 0; i < len(l.running); {
		t := l.running[i]
		var res *BackgroundResult
		switch {
		case t.j.finished.Load(): // its result is out already
			res = &BackgroundResult{}
		case !t.deadline.IsZero() && !now.Before(t.deadline):
			res = transferErrorResult(newCurlError(curlTimeout, "timeout reached"))
		case t.phase == phaseConnecting && !now.Before(t.connectBy):
			res = connectFailed(t.c.key.ap, os.ErrDeadlineExceeded)
		}
		if res == nil {
			l.noteDeadline(t.deadline)
			if t.phase == phaseConnecting {
				l.noteDeadline(t.connectBy)
			}
			i++
			continue
		}
		l.fail(t, res) // the last one moves to i
	}
}

// giveUp hands a job that has sent nothing to the goroutine path, with the limits it
// holds (none: it waits for them) and whether its first connection must be a new one.
func (l *loop) giveUp(j *job, held limits, fresh bool) {
	l.busy.Add(-1)
	l.stats.gaveUp.Add(1)
	j.handoff = &handoff{limits: held, fresh: fresh}
	l.e.dispatch(j)
}

// handOff hands t, whose request is sent, to the goroutine path: the connection goes
// back to Go's poller (so that a cancel can interrupt it), and its reader returns the
// bytes received so far, then readErr if the loop met one, then what the socket has.
func (l *loop) handOff(t *ltransfer, readErr error) {
	c := t.c
	l.detach(t)
	l.unregister(c)
	d := &detachedFD{fd: c.fd}
	c.fd = -1
	fc := &fdConn{rc: d, direct: true, detached: d, raddr: net.TCPAddrFromAddrPort(c.key.ap)}
	fc.usePoller()
	tr := l.e.backgroundTransport(t.j.spec)
	var conn net.Conn = fc
	if len(t.in) > 0 || readErr != nil {
		var rest io.Reader = fc
		if readErr != nil {
			rest = errReader{readErr}
		}
		conn = &primedConn{Conn: fc, r: io.MultiReader(bytes.NewReader(bytes.Clone(t.in)), rest)}
	}
	pc := newPconn(conn, tr.connKey(t.u, nil))
	pc.fd, pc.reused, pc.connected = fc, c.reused, c.connected
	l.putBuf(t.in)
	t.in = nil
	l.busy.Add(-1)
	l.stats.handedOver.Add(1)
	t.j.handoff = &handoff{limits: t.limits, sent: pc, timings: t.timings}
	t.limits = limits{}
	l.e.dispatch(t.j)
}

// primedConn is a connection whose reads first return what the loop received. Every
// read of the response goes through it (the reader's and readInto's alike).
type primedConn struct {
	net.Conn
	r io.Reader
}

func (c *primedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// errReader returns err for ever: a read error the loop met, kept for the reader.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// headEnd returns the length of the response head at the start of b (up to and with
// the empty line that ends it, CRLF or LF as readHead accepts), or -1 and where the
// next search may resume: the start of the line not yet complete. from is such a
// point of an earlier search (0 at first).
func headEnd(b []byte, from int) (end, resume int) {
	i := from
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1, i
		}
		if i > 0 && (j == 0 || j == 1 && b[i] == '\r') { // an empty line, not the status line
			return i + j + 1, 0
		}
		i += j + 1
	}
}

// This file owns the background event loop: plain-HTTP background requests run the way
// curl's multi interface runs its transfers, on one OS thread that waits in one epoll set
// for every socket, instead of a goroutine per transfer parked in Go's network poller.
//
// Why: with a goroutine per transfer, every response wakes the poller's thread, which
// hands the goroutine to another thread, which hands the result to the host's: three
// thread crossings and as many context switches per request (BENCHMARKS.md measured
// 16 470 context switches for 30 000 requests where libcurl's single thread made 33).
// Here the transfers are coroutines (iter.Pull) resumed by the loop on its own thread:
// the transfer code is the same blocking code as everywhere else (request.go, wire.go),
// only its waits yield to the loop (eventLoop.wait) instead of blocking the thread.
// Measured (BENCHMARKS.md item 12): about 10 % less CPU per request; the crossing between
// the host's thread and the loop's, and the runtime's sysmon, remain.
//
// A coroutine must never block its thread for anything but an fd wait, or every other
// transfer of the loop waits too. So only requests that cannot block are sent here
// (loopable): http:// to an IP address, no proxy or source address, no redirects (which
// could lead to a host name or to TLS), a body already in memory; and a request reaches
// the loop holding its pool's limits (one that must wait for them waits on a goroutine
// first, queueForLoop). Everything else keeps the goroutine transfer.

package engine

import (
	"container/heap"
	"iter"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// loopIdle is how long the loop thread waits without work before it ends (a new request
// starts it again).
const loopIdle = time.Second

// eventLoop runs loop jobs. Its goroutine exists while there is work, and up to loopIdle
// after it.
type eventLoop struct {
	e *Engine

	mu       sync.Mutex
	inbox    []loopMsg // posted, not yet taken by the loop
	running  bool      // the loop goroutine exists
	sleeping bool      // the loop waits in epoll_wait with nothing in the inbox
	woken    bool      // a wake-up is pending in the eventfd
	evfd     int       // the running loop's eventfd

	// waking counts the posts between deciding to wake the loop (under mu) and their
	// write to evfd (outside it). The loop does not end while one is on its way: its
	// evfd would be closed, and the number, reused by a socket, written to.
	waking atomic.Int32

	run *loopRun // the running loop's state; set by post, used on the loop's thread
}

// start hands j, which holds its limits, to the loop. When the loop cannot run (no
// descriptor left for its epoll set), it returns j's error result: curl's failure to
// connect.
func (l *eventLoop) start(j *job) *BackgroundResult {
	if err := l.post(loopMsg{job: j}); err != nil {
		j.pool.release(j.spec.parsed.originKey(), j.slot)
		j.slot, j.held = nil, false
		return errorResult(newCurlError(curlCantConnect, "event loop: "+err.Error()))
	}
	return nil
}

// loopMsg is a job to start, or a job to stop (a cancel or the shutdown).
type loopMsg struct {
	job  *job
	stop bool
}

// post hands m to the loop, starting the loop if it is not running and waking it if it
// sleeps. It is called from any thread and never blocks on the loop.
func (l *eventLoop) post(m loopMsg) error {
	l.mu.Lock()
	if !l.running {
		run, err := newLoopRun()
		if err != nil {
			l.mu.Unlock()
			return err
		}
		l.running, l.evfd, l.run = true, run.evfd, run
		go l.loop(run)
	}
	l.inbox = append(l.inbox, m)
	wake := l.sleeping && !l.woken
	if wake {
		l.woken = true
		l.waking.Add(1)
	}
	evfd := l.evfd
	l.mu.Unlock()
	if wake {
		// Outside the lock, which the loop takes too (see completions in background.go).
		one := uint64(1)
		_, _ = syscall.Write(evfd, (*[8]byte)(unsafe.Pointer(&one))[:])
		l.waking.Add(-1)
	}
	return nil
}

// loopRun is the state of one run of the loop goroutine.
type loopRun struct {
	epfd, evfd int
	fds        []*loopFD // registered sockets by descriptor number
	gen        uint32    // registrations made; tells a reused descriptor number apart
	idle       []*loopTask
	active     int         // tasks running a job
	ready      []*loopTask // tasks to resume
	timers     taskTimers  // waiting tasks with a deadline
	cur        *loopTask   // the task running now
}

func newLoopRun() (*loopRun, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	evfd, _, e := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if e != 0 {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("eventfd2", e)
	}
	run := &loopRun{epfd: epfd, evfd: int(evfd)}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(evfd), Pad: 0}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(evfd), &ev); err != nil {
		run.close()
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return run, nil
}

func (run *loopRun) close() {
	syscall.Close(run.epfd)
	syscall.Close(run.evfd)
}

// loopFD is a socket's registration in the loop's epoll set (edge-triggered, both
// directions, registered once): the readiness seen and not yet consumed, and the task
// waiting for it.
type loopFD struct {
	run     *loopRun
	gen     uint32
	in, out bool
	waiter  *loopTask
}

// loopTask is one coroutine; it runs jobs one after another.
type loopTask struct {
	resume  func() (struct{}, bool)
	end     func()
	yield   func(struct{}) bool
	job     *job
	stopped bool // the job was cancelled or shut down: every wait fails

	waitFD   *loopFD
	waitEv   int16
	deadline time.Time
	timerIdx int // index in taskTimers; -1: not there
	queued   bool
}

// loop is the loop goroutine: it takes posted messages, resumes the tasks whose waits
// ended, and waits in epoll_wait, until it has been idle for loopIdle.
func (l *eventLoop) loop(run *loopRun) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	events := make([]syscall.EpollEvent, 256)
	var msgs []loopMsg
	for {
		l.mu.Lock()
		msgs, l.inbox = l.inbox, msgs[:0]
		l.mu.Unlock()
		for i, m := range msgs {
			run.take(l, m)
			msgs[i] = loopMsg{}
		}
		run.resumeReady()

		l.e.bg.done.flush() // this round's results, at once to a waiting host
		timeout := run.timeout()
		if timeout != 0 {
			l.mu.Lock()
			if len(l.inbox) > 0 {
				timeout = 0
			} else {
				l.sleeping = true
			}
			l.mu.Unlock()
		}
		n, err := syscall.EpollWait(run.epfd, events, timeout)
		if timeout != 0 {
			l.mu.Lock()
			l.sleeping, l.woken = false, false // a wake-up written from now on is drained by dispatch
			if n == 0 && err == nil && run.active == 0 && len(l.inbox) == 0 && l.waking.Load() == 0 {
				l.running, l.run = false, nil // idle for loopIdle: end; the next post starts a new run
				l.mu.Unlock()
				run.shut()
				return
			}
			l.mu.Unlock()
		}
		for i := 0; i < n; i++ {
			run.dispatch(&events[i])
		}
		run.expire(time.Now())
	}
}

// timeout is epoll_wait's: 0 while tasks are ready, the nearest deadline while tasks
// wait, loopIdle when none runs.
func (run *loopRun) timeout() int {
	switch {
	case len(run.ready) > 0:
		return 0
	case len(run.timers) > 0:
		d := time.Until(run.timers[0].deadline)
		if d <= 0 {
			return 0
		}
		return int((d + time.Millisecond - 1) / time.Millisecond)
	case run.active > 0:
		return -1
	}
	return int(loopIdle / time.Millisecond)
}

// take starts or stops a posted job.
func (run *loopRun) take(l *eventLoop, m loopMsg) {
	j := m.job
	if m.stop {
		// The transfer's I/O is interrupted here, on the loop's thread, where its
		// connections are used; the task's wait then fails.
		j.stop.mu.Lock()
		if x := j.stop.x; x != nil {
			x.interrupt()
		}
		j.stop.mu.Unlock()
		if t := j.task; t != nil && t.job == j {
			t.stopped = true
			if t.waitFD != nil || t.timerIdx >= 0 {
				run.makeReady(t)
			}
		}
		return
	}
	var t *loopTask
	if k := len(run.idle); k > 0 {
		t, run.idle = run.idle[k-1], run.idle[:k-1]
	} else {
		t = newLoopTask(l)
	}
	// A job stopped before it started (its context is cancelled first) never connects.
	t.job, t.stopped, j.task = j, j.ctx.Err() != nil, t
	run.active++
	run.resumeTask(t)
}

// newLoopTask makes a coroutine that runs its task's jobs until the loop ends it.
func newLoopTask(l *eventLoop) *loopTask {
	t := &loopTask{timerIdx: -1}
	t.resume, t.end = iter.Pull(func(yield func(struct{}) bool) {
		t.yield = yield
		for {
			l.e.runLoopJob(t.job)
			t.job = nil
			if !yield(struct{}{}) {
				return
			}
		}
	})
	return t
}

// runLoopJob runs j on its task. A panic that escaped performSafely still completes the
// job and must not end the coroutine's caller, the loop.
func (e *Engine) runLoopJob(j *job) {
	defer func() {
		if v := recover(); v != nil {
			e.bg.complete(j, errorResult(newCurlError(curlAbortedByCallback, "internal error in the event loop")), Completed)
		}
	}()
	e.finish(j, e.performSafely(j), true)
}

// resumeTask runs t until it waits or finishes its job.
func (run *loopRun) resumeTask(t *loopTask) {
	run.cur = t
	t.resume()
	run.cur = nil
	if t.job == nil {
		run.active--
		run.idle = append(run.idle, t)
	}
}

func (run *loopRun) makeReady(t *loopTask) {
	if !t.queued {
		t.queued = true
		run.ready = append(run.ready, t)
	}
}

func (run *loopRun) resumeReady() {
	for i := 0; i < len(run.ready); i++ {
		t := run.ready[i]
		run.ready[i] = nil
		t.queued = false
		run.resumeTask(t)
	}
	run.ready = run.ready[:0]
}

// dispatch records an event's readiness and readies the task waiting for it.
func (run *loopRun) dispatch(ev *syscall.EpollEvent) {
	fd := int(ev.Fd)
	if fd == run.evfd {
		var b [8]byte
		_, _ = syscall.Read(fd, b[:]) // the counter back to 0: not readable until the next post
		return
	}
	if fd >= len(run.fds) {
		return
	}
	f := run.fds[fd]
	if f == nil || f.gen != uint32(ev.Pad) {
		return // a descriptor closed since; its number may be another socket's now
	}
	if ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		f.in = true
	}
	if ev.Events&(syscall.EPOLLOUT|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
		f.out = true
	}
	if t := f.waiter; t != nil && (t.waitEv&pollIn != 0 && f.in || t.waitEv&pollOut != 0 && f.out) {
		run.makeReady(t)
	}
}

// expire readies the tasks whose deadline has passed.
func (run *loopRun) expire(now time.Time) {
	for len(run.timers) > 0 && !run.timers[0].deadline.After(now) {
		t := heap.Pop(&run.timers).(*loopTask)
		run.makeReady(t)
	}
}

// shut ends the run: the idle coroutines return and the descriptors close. Registered
// sockets leave the epoll set with it; a later run registers them again.
func (run *loopRun) shut() {
	for _, t := range run.idle {
		t.end()
	}
	run.idle = nil
	run.close()
}

// register returns d's registration in this run, adding d to the epoll set the first
// time.
func (run *loopRun) register(d *detachedFD) (*loopFD, error) {
	if f := d.reg; f != nil && f.run == run {
		return f, nil
	}
	run.gen++
	f := &loopFD{run: run, gen: run.gen}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | syscall.EPOLLET&0xffffffff,
		Fd: int32(d.fd), Pad: int32(f.gen)}
	err := syscall.EpollCtl(run.epfd, syscall.EPOLL_CTL_ADD, d.fd, &ev)
	if err == syscall.EEXIST {
		err = syscall.EpollCtl(run.epfd, syscall.EPOLL_CTL_MOD, d.fd, &ev)
	}
	if err != nil {
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	for d.fd >= len(run.fds) {
		run.fds = append(run.fds, nil)
	}
	run.fds[d.fd] = f
	d.reg = f
	return f, nil
}

// wait is waitFD for a socket of a loop task: the task yields to the loop until d is
// ready for events, the deadline passes (os.ErrDeadlineExceeded) or its job is stopped
// (the same error: the transfer then reports the stop). Errors and hang-ups count as
// ready: the next read or write reports them.
func (l *eventLoop) wait(d *detachedFD, events int16, deadline time.Time) error {
	run := l.run
	var t *loopTask
	if run != nil {
		t = run.cur
	}
	if t == nil { // not on the loop's thread: cannot happen, but never hang
		return waitFD(uintptr(d.fd), events, deadline)
	}
	f, err := run.register(d)
	if err != nil {
		return err
	}
	for {
		switch {
		case t.stopped:
			return os.ErrDeadlineExceeded
		case events&pollIn != 0 && f.in:
			f.in = false
			return nil
		case events&pollOut != 0 && f.out:
			f.out = false
			return nil
		case !deadline.IsZero() && !time.Now().Before(deadline):
			return os.ErrDeadlineExceeded
		}
		f.waiter, t.waitFD, t.waitEv, t.deadline = t, f, events, deadline
		if !deadline.IsZero() {
			heap.Push(&run.timers, t)
		}
		run.cur = nil
		t.yield(struct{}{})
		run.cur = t
		f.waiter, t.waitFD = nil, nil
		if t.timerIdx >= 0 {
			heap.Remove(&run.timers, t.timerIdx)
		}
	}
}

// quiet reports whether d is a loop socket on which the loop has seen nothing arrive
// (no data, no end of stream, no error) since its last wait consumed what it saw. An
// event still queued in the kernel is not seen: the request then fails before any
// response byte and is retried on a new connection, as after any idle close.
func (d *detachedFD) quiet() bool {
	if d.loop == nil || d.reg == nil {
		return false
	}
	run := d.loop.run
	return run != nil && d.reg.run == run && run.cur != nil && !d.reg.in
}

// connect connects a loop socket (non-blocking) to sa by the given time.
func (l *eventLoop) connect(d *detachedFD, sa syscall.Sockaddr, by time.Time) error {
	if run := l.run; run != nil && run.cur != nil && run.cur.stopped || !time.Now().Before(by) {
		return os.ErrDeadlineExceeded
	}
	err := syscall.Connect(d.fd, sa)
	switch err {
	case nil:
		return nil
	case syscall.EINPROGRESS, syscall.EINTR, syscall.EALREADY:
		if err := l.wait(d, pollOut, by); err != nil {
			return err
		}
		return connectError(d.fd)
	}
	return os.NewSyscallError("connect", err)
}

// taskTimers is a min-heap of waiting tasks by deadline.
type taskTimers []*loopTask

func (h taskTimers) Len() int           { return len(h) }
func (h taskTimers) Less(i, k int) bool { return h[i].deadline.Before(h[k].deadline) }
func (h taskTimers) Swap(i, k int) {
	h[i], h[k] = h[k], h[i]
	h[i].timerIdx, h[k].timerIdx = i, k
}
func (h *taskTimers) Push(x any) {
	t := x.(*loopTask)
	t.timerIdx = len(*h)
	*h = append(*h, t)
}
func (h *taskTimers) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.timerIdx = -1
	*h = old[:len(old)-1]
	return t
}

// loopable reports whether spec can run on the event loop: nothing in its transfer may
// block the loop's thread (see the file comment). The pool's limits are checked at
// submission (Submit).
func (e *Engine) loopable(spec *BackgroundSpec) bool {
	if spec.URLError != 0 || spec.Redirects != 0 || spec.parsed == nil || spec.parsedFrom != spec.URL {
		return false
	}
	if k := spec.Body.Kind; k != BodyNone && k != BodyString {
		return false
	}
	u := spec.parsed
	if u.scheme != "http" {
		return false
	}
	if ip, err := netip.ParseAddr(u.hostname); err != nil || ip.Zone() != "" {
		return false
	}
	t := e.backgroundTransport(spec)
	if t.iface != nil || t.setoptErr != nil {
		return false
	}
	p, cerr := t.proxyFor(u)
	return p == nil && cerr == nil
}

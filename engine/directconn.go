// This file owns direct I/O for synchronous requests: a TCP connection whose reads and
// writes block the calling thread in poll(2), as libcurl's do, instead of parking the
// goroutine in Go's network poller.
//
// Why: a synchronous hc_* call runs on the host's own thread, to which cgo locks the
// goroutine. When a locked goroutine parks in the poller, its thread sleeps and another
// thread must wake it again when data arrives (runtime.stoplockedm/startlockedm): two
// futex hand-offs and context switches per read, which cost more than the request itself
// on a kept connection. Blocking in the syscall keeps the whole exchange on one thread;
// the runtime only hands the P to another thread if the wait is long (sysmon), as for any
// blocking syscall.
//
// Background requests run on goroutines that are not locked and many at a time: they keep
// the poller (direct is off), and so does HTTP/2, whose reader goroutine lives as long as
// the connection and must be stopped by a Close.

package engine

import (
	"io"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// fdConn is a TCP connection that can do direct I/O. Each connection belongs to one kind
// of request for its whole life (the synchronous pools and the background pools never
// share connections), so direct is fixed before the connection is shared.
type fdConn struct {
	*net.TCPConn // poller mode; closed once detached (direct mode)
	rc           syscall.RawConn
	direct       bool
	detached     *detachedFD // direct mode: the socket, out of Go's poller; nil: TCPConn's
	laddr, raddr net.Addr    // kept from the TCPConn when detached

	// Deadlines of direct mode (net.Conn semantics; zero: none). In poller mode they are
	// the TCPConn's own.
	readBy, writeBy time.Time

	rd, wr ioOp       // Read's and Write's, direct mode
	await  awaitState // writeAwait's, poller mode
}

func newFDConn(c *net.TCPConn, direct bool) *fdConn {
	rc, err := c.SyscallConn()
	if err != nil {
		direct = false
	}
	fc := &fdConn{TCPConn: c, rc: rc, direct: direct}
	if direct {
		fc.detach()
	}
	return fc
}

// detach takes a direct connection's socket out of Go's network poller. Go registers
// every socket with its epoll instance (edge-triggered); a socket that nobody waits on in
// the poller still wakes the thread that sleeps in epoll_wait each time data arrives, and
// that thread finds nothing to do and sleeps again: a context switch per response segment
// that libcurl does not have. The socket is duplicated and the TCPConn closed (Go removes
// it from epoll: EPOLL_CTL_DEL), which leaves the connection open on the duplicate.
// Should anything fail, the connection stays in the poller (only slower).
func (c *fdConn) detach() {
	nfd := -1
	if err := c.rc.Control(func(fd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
		if e == 0 {
			nfd = int(r)
		}
	}); err != nil || nfd < 0 {
		return
	}
	c.laddr, c.raddr = c.TCPConn.LocalAddr(), c.TCPConn.RemoteAddr()
	_ = c.TCPConn.Close()
	c.detached = &detachedFD{fd: nfd}
	c.rc = c.detached
}

// dialDetached connects a direct connection to an IP address on the calling thread, with
// what net.Dialer would give it (TCP_NODELAY, no keep-alive probes, the same errors), but
// on a socket that never enters Go's poller: no registration, no event for a poller
// thread to wake up for, nothing to detach, and no dialer deadline timer.
func dialDetached(ap netip.AddrPort, by time.Time) (*fdConn, error) {
	raddr := net.TCPAddrFromAddrPort(ap)
	fail := func(err error) (*fdConn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: raddr, Err: err}
	}
	fd, err := newSocket(ap)
	if err != nil {
		return fail(err)
	}
	if err := connectFD(fd, sockaddr(ap), by); err != nil {
		syscall.Close(fd)
		return fail(err)
	}
	d := &detachedFD{fd: fd}
	return &fdConn{rc: d, direct: true, detached: d, raddr: raddr}, nil
}

// newSocket makes a non-blocking TCP socket for ap with what net.Dialer gives one
// (TCP_NODELAY; no keep-alive probes, libcurl's default).
func newSocket(ap netip.AddrPort) (int, error) {
	family := syscall.AF_INET6
	if ap.Addr().Is4() || ap.Addr().Is4In6() {
		family = syscall.AF_INET
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
		syscall.Close(fd)
		return -1, os.NewSyscallError("setsockopt", err)
	}
	return fd, nil
}

func sockaddr(ap netip.AddrPort) syscall.Sockaddr {
	if ip := ap.Addr(); ip.Is4() || ip.Is4In6() {
		return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ip.Unmap().As4()}
	}
	return &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

// Close closes the connection.
func (c *fdConn) Close() error {
	if c.detached != nil {
		return c.detached.close()
	}
	return c.TCPConn.Close()
}

func (c *fdConn) LocalAddr() net.Addr {
	if c.detached != nil {
		if c.laddr == nil && !c.detached.closed.Load() { // dialDetached: asked for in errors only
			if sa, err := syscall.Getsockname(c.detached.fd); err == nil {
				switch a := sa.(type) {
				case *syscall.SockaddrInet4:
					c.laddr = &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
				case *syscall.SockaddrInet6:
					c.laddr = &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
				}
			}
		}
		return c.laddr
	}
	return c.TCPConn.LocalAddr()
}

func (c *fdConn) RemoteAddr() net.Addr {
	if c.detached != nil {
		return c.raddr
	}
	return c.TCPConn.RemoteAddr()
}

// detachedFD is a socket outside Go's poller, used through syscall.RawConn's methods so
// that direct I/O is the same code either way. A direct connection is used by one
// thread at a time (its request's), so no lock guards the descriptor against Close.
type detachedFD struct {
	fd     int
	closed atomic.Bool
}

var errDetachedClosed = &net.OpError{Op: "use", Net: "tcp", Err: net.ErrClosed}

func (d *detachedFD) close() error {
	if !d.closed.CompareAndSwap(false, true) {
		return errDetachedClosed
	}
	return syscall.Close(d.fd)
}

func (d *detachedFD) Control(f func(fd uintptr)) error {
	if d.closed.Load() {
		return errDetachedClosed
	}
	f(uintptr(d.fd))
	return nil
}

func (d *detachedFD) Read(f func(fd uintptr) bool) error  { return d.wait(f, pollIn) }
func (d *detachedFD) Write(f func(fd uintptr) bool) error { return d.wait(f, pollOut) }

// wait calls f until it reports done, waiting in poll(2) for events between calls.
func (d *detachedFD) wait(f func(fd uintptr) bool, events int16) error {
	for {
		if d.closed.Load() {
			return errDetachedClosed
		}
		if f(uintptr(d.fd)) {
			return nil
		}
		if err := waitFD(uintptr(d.fd), events, time.Time{}); err != nil {
			return err
		}
	}
}

// usePoller turns direct I/O off for good (HTTP/2 takes the connection over).
func (c *fdConn) usePoller() {
	if !c.direct {
		return
	}
	c.direct = false
	if d := c.detached; d != nil {
		// Back into the poller, on a duplicate that net.FileConn registers.
		f := os.NewFile(uintptr(d.fd), "")
		nc, err := net.FileConn(f)
		_ = f.Close() // closes d.fd; nc has its own descriptor
		d.closed.Store(true)
		tc, ok := nc.(*net.TCPConn)
		if err != nil || !ok {
			// Unusable: every use now fails (a closed connection), as after a reset.
			c.detached = &detachedFD{fd: -1}
			c.detached.closed.Store(true)
			c.rc = c.detached
			c.direct = true
			return
		}
		c.TCPConn, c.detached = tc, nil
		c.rc, _ = tc.SyscallConn()
	}
	_ = c.TCPConn.SetReadDeadline(c.readBy)
	_ = c.TCPConn.SetWriteDeadline(c.writeBy)
}

func (c *fdConn) SetDeadline(t time.Time) error {
	if !c.direct {
		return c.TCPConn.SetDeadline(t)
	}
	c.readBy, c.writeBy = t, t
	return nil
}

func (c *fdConn) SetReadDeadline(t time.Time) error {
	if !c.direct {
		return c.TCPConn.SetReadDeadline(t)
	}
	c.readBy = t
	return nil
}

func (c *fdConn) SetWriteDeadline(t time.Time) error {
	if !c.direct {
		return c.TCPConn.SetWriteDeadline(t)
	}
	c.writeBy = t
	return nil
}

func (c *fdConn) Read(p []byte) (int, error) {
	if !c.direct {
		return c.TCPConn.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.rd.fn == nil {
		c.rd.fn = c.readStep
	}
	rerr := c.rc.Read(c.rd.begin(p))
	n, err := c.rd.end()
	switch {
	case rerr != nil:
		return 0, rerr
	case err != nil:
		return 0, c.opError("read", err)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// readStep is Read's RawConn callback: it reads once, waiting in ppoll while nothing has
// arrived.
func (c *fdConn) readStep(fd uintptr) bool {
	op := &c.rd
	for {
		n, e := recvNow(fd, op.p)
		switch e {
		case 0:
			op.n = n
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if op.err = waitFD(fd, pollIn, c.readBy); op.err != nil {
				return true
			}
			continue
		default:
			op.err = e
		}
		return true
	}
}

func (c *fdConn) Write(p []byte) (int, error) {
	if !c.direct {
		return c.TCPConn.Write(p)
	}
	if !c.writeBy.IsZero() && !time.Now().Before(c.writeBy) {
		// As net.Conn: nothing is written past the deadline (an interrupted transfer's
		// is in the past: a stopped request must not go out).
		return 0, c.opError("write", os.ErrDeadlineExceeded)
	}
	if c.wr.fn == nil {
		c.wr.fn = c.writeStep
	}
	werr := c.rc.Write(c.wr.begin(p))
	done, err := c.wr.end()
	switch {
	case werr != nil:
		return done, werr
	case err != nil:
		return done, c.opError("write", err)
	}
	return done, nil
}

// writeStep is Write's RawConn callback: it sends all of the buffer, waiting in ppoll
// while the socket's send buffer is full.
func (c *fdConn) writeStep(fd uintptr) bool {
	op := &c.wr
	for op.n < len(op.p) {
		n, e := sendNow(fd, op.p[op.n:])
		switch e {
		case 0:
			op.n += n
		case syscall.EINTR:
		case syscall.EAGAIN:
			if op.err = waitFD(fd, pollOut, c.writeBy); op.err != nil {
				return true
			}
		default:
			op.err = e
			return true
		}
	}
	return true
}

// ioOp is the state of a direct read or write, kept in the connection (one read and one
// write at a time) with its RawConn callback, made once per connection: a closure per call
// would be an allocation per read and per write.
type ioOp struct {
	fn  func(fd uintptr) bool
	p   []byte
	n   int
	err error
}

// begin readies op for a call on p and returns its callback.
func (op *ioOp) begin(p []byte) func(fd uintptr) bool {
	op.p, op.n, op.err = p, 0, nil
	return op.fn
}

// end returns what the call did and lets go of its buffer.
func (op *ioOp) end() (int, error) {
	n, err := op.n, op.err
	op.p, op.err = nil, nil
	return n, err
}

// sendNow is send(2) that never blocks (MSG_DONTWAIT, whatever the socket's mode), so it
// is made as a raw system call: the runtime is not told of a call that cannot wait, which
// saves entersyscall/exitsyscall and the sysmon wake-up that a system call may cost. It
// has MSG_NOSIGNAL: a peer that has gone must be an EPIPE error, never a SIGPIPE in the
// host. recvNow (rawrecv*.go) is its counterpart.
func sendNow(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)),
		syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL, 0, 0)
	return int(n), e
}

// readableNow reports whether the socket has something to read, an EOF or an error
// pending, without waiting: curl's dead-connection check. A closed connection counts as
// readable (not usable either).
func (c *fdConn) readableNow() bool {
	if d := c.detached; d != nil {
		return d.closed.Load() || pollNow(uintptr(d.fd))
	}
	readable := true
	_ = c.rc.Control(func(fd uintptr) { readable = pollNow(fd) })
	return readable
}

// pollNow is poll(2) for input with a zero timeout, a raw system call since it cannot wait.
func pollNow(fd uintptr) bool {
	pfd := pollFD{fd: int32(fd), events: pollIn}
	var zero syscall.Timespec
	n, _, e := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1,
		uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
	return e != 0 || n > 0
}

// writeAwait writes p on a poller-mode connection and parks the goroutine until the
// socket is readable, inside one RawConn.Read. Go's own Read would first try read(2) and
// park only after it returned EAGAIN, which it always does right after a request is sent:
// one system call per response saved (libcurl, too, polls before it reads). The poller's
// readiness is reset when RawConn.Read starts, before the write, so a response that
// arrives at once is not missed. It returns how much was written: on EAGAIN (a full
// socket buffer) less than p, and the caller writes the rest the usual way. A failed wait
// (deadline, interrupt, close) is left to the next Read to report.
func (c *fdConn) writeAwait(p []byte) (int, error) {
	a := &c.await
	if a.fn == nil {
		a.fn = a.step // made once per connection: a closure per call would be an allocation
	}
	a.p, a.done, a.sent, a.err = p, 0, false, nil
	_ = c.rc.Read(a.fn)
	done, werr := a.done, a.err
	a.p, a.err = nil, nil
	switch {
	case werr == syscall.EAGAIN:
		return done, nil
	case werr != nil:
		return done, c.opError("write", werr)
	}
	return done, nil
}

// awaitReadable waits, in direct mode, until the socket is readable or the read deadline
// passes; the next Read reports what it finds. Called after a request is sent, it saves
// the read that would fail with EAGAIN before the wait, as libcurl polls before it reads.
func (c *fdConn) awaitReadable() {
	a := &c.await
	if a.waitFn == nil {
		a.waitFn = func(fd uintptr) { _ = waitFD(fd, pollIn, c.readBy) } // once per connection
	}
	_ = c.rc.Control(a.waitFn)
}

// awaitState is writeAwait's state, kept in the connection (one exchange at a time).
type awaitState struct {
	waitFn func(fd uintptr) // awaitReadable's
	fn     func(fd uintptr) bool
	p      []byte
	done   int
	sent   bool
	err    error
}

// step is RawConn.Read's callback: the first call writes and asks to park, the next one
// (readable, or the wait ended) finishes.
func (a *awaitState) step(fd uintptr) bool {
	if a.sent || a.err != nil {
		return true
	}
	for a.done < len(a.p) {
		n, e := sendNow(fd, a.p[a.done:])
		switch e {
		case 0:
			a.done += n
		case syscall.EINTR:
		default:
			a.err = e
			return true
		}
	}
	a.sent = true
	return false // park until readable
}

// blockingConnect is a net.Dialer Control for direct mode: the socket is made blocking,
// with SO_SNDTIMEO as the connect timeout, so that connect(2) waits on the calling thread
// instead of parking the goroutine for the socket to become writable. Should the timeout
// pass or a signal interrupt it, connect returns EINPROGRESS or EINTR and Go waits in the
// poller as usual, bounded by the Dialer's deadline. dial makes the socket non-blocking
// again before any other use.
func blockingConnect(connectBy time.Time) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = blockUntil(int(fd), connectBy) // on failure the poller waits, as usual
		})
	}
}

// connectFD connects fd to sa by a blocking connect(2) whose limit is SO_SNDTIMEO, and
// leaves fd non-blocking.
func connectFD(fd int, sa syscall.Sockaddr, by time.Time) error {
	if err := blockUntil(fd, by); err != nil {
		return err
	}
	err := syscall.Connect(fd, sa)
	_ = setNonblock(fd, true)
	switch err {
	case nil:
		return nil
	case syscall.EINPROGRESS: // SO_SNDTIMEO ran out
		return os.ErrDeadlineExceeded
	case syscall.EINTR, syscall.EALREADY: // a signal: the connect goes on; wait for it
		if err := waitFD(uintptr(fd), pollOut, by); err != nil {
			return err
		}
		n, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err != nil {
			return os.NewSyscallError("getsockopt", err)
		}
		if n != 0 {
			return os.NewSyscallError("connect", syscall.Errno(n))
		}
		return nil
	}
	return os.NewSyscallError("connect", err)
}

// blockUntil makes fd blocking, with SO_SNDTIMEO as the limit of a connect(2) that must
// end by the given time.
func blockUntil(fd int, by time.Time) error {
	left := time.Until(by)
	if left <= 0 {
		return os.ErrDeadlineExceeded
	}
	tv := syscall.NsecToTimeval(int64(left))
	if tv.Sec == 0 && tv.Usec == 0 {
		tv.Usec = 1 // a zero SO_SNDTIMEO would mean no limit
	}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	if err := setNonblock(fd, false); err != nil {
		return os.NewSyscallError("ioctl", err)
	}
	return nil
}

// setNonblock sets or clears O_NONBLOCK with one ioctl(FIONBIO) where
// syscall.SetNonblock makes two fcntl calls: a direct connect does it twice.
func setNonblock(fd int, on bool) error {
	const fionbio = 0x5421 // FIONBIO on Linux (x86, arm, riscv); syscall does not name it
	v := int32(0)
	if on {
		v = 1
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), fionbio, uintptr(unsafe.Pointer(&v))); e != 0 {
		return e
	}
	return nil
}

// setNonblock restores the non-blocking mode that every read and write relies on.
func (c *fdConn) setNonblock() {
	if c.rc == nil {
		return
	}
	_ = c.rc.Control(func(fd uintptr) { _ = setNonblock(int(fd), true) })
}

// setRcvLowat sets SO_RCVLOWAT: the socket reports itself readable (poll(2), epoll) only
// once n bytes are waiting, or at EOF or an error. A large body is then read in a few
// large reads with a few wake-ups, instead of one wake-up per arriving segment.
func (c *fdConn) setRcvLowat(n int) {
	if c.rc == nil {
		return
	}
	_ = c.rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n)
	})
}

// opError wraps err as the net package would, so that classify and isTimeout see the
// same errors in both modes.
func (c *fdConn) opError(op string, err error) error {
	if err == os.ErrDeadlineExceeded {
		return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError(op, err)}
}

const (
	pollIn  = 0x1 // POLLIN
	pollOut = 0x4 // POLLOUT
)

// pollFD is struct pollfd.
type pollFD struct {
	fd      int32
	events  int16
	revents int16
}

// waitFD blocks the thread in ppoll(2) until fd is ready for events or the deadline
// passes (os.ErrDeadlineExceeded). Errors and hang-ups count as ready: the next read or
// write reports them.
func waitFD(fd uintptr, events int16, deadline time.Time) error {
	pfd := pollFD{fd: int32(fd), events: events}
	for {
		var ts *syscall.Timespec
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			t := syscall.NsecToTimespec(int64(left))
			ts = &t
		}
		n, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1,
			uintptr(unsafe.Pointer(ts)), 0, 0, 0)
		switch {
		case e == syscall.EINTR:
			continue
		case e != 0:
			return e
		case n > 0:
			return nil
		}
		// n == 0: the timeout; the loop checks the deadline again.
	}
}

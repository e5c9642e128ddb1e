// This file owns the queue of finished background results and the descriptor that tells
// an event loop that results wait.

package engine

import (
	"sync"
	"syscall"
	"time"
)

// completions is the queue of finished results and a pipe whose read end is readable
// exactly while results wait, for whoever watches it: the host's event loop (ReadyFD)
// and threads that wait in Poll without driving the loop. The pipe holds its byte only
// while someone may watch it: a host that drives the loop from its polling thread and has
// never asked for the descriptor would otherwise pay a write(2) and a read(2) for every
// result (half a system call each per request at 64 in flight).
type completions struct {
	mu       sync.Mutex
	list     []*BackgroundResult
	head     int
	readFD   int
	writeFD  int
	exported bool   // the host has the descriptor: the pipe follows the queue from then on
	waiters  int    // threads waiting on readFD now
	signaled bool   // the pipe holds its byte
	pushed   func() // told after every push (the loop's resultPushed); nil: none
}

func (c *completions) init() error {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		return err
	}
	c.readFD, c.writeFD = p[0], p[1]
	return nil
}

// signal puts the byte in the pipe if results wait and someone may watch. c.mu is held.
func (c *completions) signal() {
	if !c.signaled && c.head < len(c.list) && (c.exported || c.waiters > 0) {
		_, _ = syscall.Write(c.writeFD, []byte{1})
		c.signaled = true
	}
}

func (c *completions) push(r *BackgroundResult) {
	c.mu.Lock()
	c.list = append(c.list, r)
	c.signal()
	c.mu.Unlock()
	if c.pushed != nil {
		c.pushed()
	}
}

// exportFD returns the read end for the host's event loop, which may watch it from now on.
func (c *completions) exportFD() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exported = true
	c.signal()
	return c.readFD
}

// waiting reports whether results wait to be popped.
func (c *completions) waiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.head < len(c.list)
}

func (c *completions) tryPop() *BackgroundResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head == len(c.list) {
		return nil
	}
	r := c.list[c.head]
	c.list[c.head] = nil
	c.head++
	if c.head == len(c.list) { // not empty -> empty
		if c.signaled {
			var b [1]byte
			_, _ = syscall.Read(c.readFD, b[:])
			c.signaled = false
		}
		c.list, c.head = c.list[:0], 0
	}
	return r
}

// wait blocks the calling thread in poll(2) on the pipe until results wait or deadline
// (zero: none) passes, which it reports as os.ErrDeadlineExceeded. It does not park the
// goroutine: Poll is called from the host's thread, to which cgo locks the goroutine, and
// a parked locked goroutine costs two thread hand-offs to wake (see directconn.go).
func (c *completions) wait(deadline time.Time) error {
	c.mu.Lock()
	c.waiters++
	c.signal() // results that came before this waiter
	c.mu.Unlock()
	err := waitFD(uintptr(c.readFD), pollIn, deadline)
	c.mu.Lock()
	c.waiters--
	c.mu.Unlock()
	return err
}

// pop returns the next result, waiting for one up to timeout (0: not at all; negative:
// without limit).
func (c *completions) pop(timeout time.Duration) *BackgroundResult {
	if r := c.tryPop(); r != nil || timeout == 0 {
		return r
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		if err := c.wait(deadline); err != nil {
			return c.tryPop()
		}
		if r := c.tryPop(); r != nil {
			return r
		}
	}
}

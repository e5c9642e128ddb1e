// Command eventloop_probe measures what the background mode could reach if hc ran its
// transfers the way curl's multi interface does: one OS thread, one level-triggered epoll
// set, non-blocking sockets, no goroutine per transfer. It is an experiment for
// BENCHMARKS.md, not part of libhc: plain HTTP/1.1 GETs with Content-Length responses on
// kept connections, nothing else (no limits, timeouts, redirects or C API crossing).
//
//	eventloop_probe -addr 127.0.0.1:PORT -path /small -n 30000 -conc 64
//
// prints requests per second and the process's CPU µs per request, like the C drivers.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

type conn struct {
	fd  int
	buf []byte
	n   int
}

func main() {
	addr := flag.String("addr", "127.0.0.1:80", "nginx address")
	path := flag.String("path", "/small", "request path")
	total := flag.Int("n", 30000, "requests")
	conc := flag.Int("conc", 64, "connections (requests in flight)")
	flag.Parse()
	if err := run(*addr, *path, *total, *conc); err != nil {
		fmt.Fprintln(os.Stderr, "eventloop_probe:", err)
		os.Exit(1)
	}
}

func run(addr, path string, total, conc int) error {
	runtime.LockOSThread()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return err
	}
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nAccept: */*\r\n\r\n")
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	conns := make(map[int]*conn, conc)
	sa := &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	for range conc {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		if err := syscall.Connect(fd, sa); err != nil {
			return err
		}
		_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
		if err := syscall.SetNonblock(fd, true); err != nil {
			return err
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return err
		}
		conns[fd] = &conn{fd: fd, buf: make([]byte, 16384)}
	}

	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	sent, done := 0, 0
	for _, c := range conns {
		if sent < total {
			if _, err := syscall.Write(c.fd, req); err != nil {
				return err
			}
			sent++
		}
	}
	events := make([]syscall.EpollEvent, conc)
	for done < total {
		n, err := syscall.EpollWait(ep, events, 1000)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range events[:n] {
			c := conns[int(ev.Fd)]
			r, err := syscall.Read(c.fd, c.buf[c.n:])
			if err == syscall.EAGAIN {
				continue
			}
			if err != nil || r == 0 {
				return fmt.Errorf("read: %v (%d)", err, r)
			}
			c.n += r
			if !complete(c.buf[:c.n]) {
				continue
			}
			c.n = 0
			done++
			if sent < total {
				if _, err := syscall.Write(c.fd, req); err != nil {
					return err
				}
				sent++
			}
		}
	}
	dt := time.Since(start)
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime) - syscall.TimevalToNsec(ru0.Utime) +
		syscall.TimevalToNsec(ru1.Stime) - syscall.TimevalToNsec(ru0.Stime))
	fmt.Printf("eventloop %d requests %.3f s %.0f req/s loop_cpu_us=%.2f\n", total, dt.Seconds(),
		float64(total)/dt.Seconds(), float64(cpu.Microseconds())/float64(total))
	return nil
}

// complete reports whether b holds one whole response with a Content-Length body.
func complete(b []byte) bool {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return false
	}
	head := b[:end]
	i := bytes.Index(bytes.ToLower(head), []byte("\r\ncontent-length:"))
	if i < 0 {
		return true
	}
	v := head[i+len("\r\ncontent-length:"):]
	if j := bytes.IndexByte(v, '\r'); j >= 0 {
		v = v[:j]
	}
	cl, err := strconv.Atoi(string(bytes.TrimSpace(v)))
	return err == nil && len(b) >= end+4+cl
}

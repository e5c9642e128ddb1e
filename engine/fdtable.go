// This file owns the process's descriptor table reservation: at start-up, the kernel's
// table of file descriptors is grown to hold the sockets the configuration may open at
// once, so that hc's own sockets do not make it grow while a request waits.
//
// Why: Linux grows a process's descriptor table when a new descriptor does not fit
// (past 256, 512, 1024, ...). In a process with more than one thread, which every
// process that has loaded a Go runtime is, each growth waits for an RCU grace period
// (expand_fdtable calls synchronize_rcu): 11 to 15 ms on the benchmark machine
// (BENCHMARKS.md), during which the socket(2) call, and the request behind it, blocks.
// A single-threaded libcurl host never waits there. A pool with max_total 256 opens
// its connections in one burst and crosses 256 descriptors in its first round, so the
// wait lands on the first requests a host makes. The table never shrinks, so one
// growth at start-up, sized from the configuration, moves that wait out of the request
// path; its cost is the table itself, 8 bytes and two bits per slot.

package engine

import (
	"os"
	"strconv"
	"syscall"
)

// maxReservedDescriptors bounds the reservation: a table of this size costs 512 KiB of
// kernel memory, and a configuration that needs more is left to grow on demand.
const maxReservedDescriptors = 65536

// descriptorsNeeded is how many sockets cfg may hold open at once: each background
// pool's max_total (an unlimited pool: what its connection cache keeps) and one kept
// connection per named connection with keep_connections.
func descriptorsNeeded(cfg *Config) int {
	n := 0
	for _, pc := range cfg.Pools {
		if pc.MaxTotal > 0 {
			n += pc.MaxTotal
		} else {
			n += maxIdlePerConnection
		}
	}
	for _, c := range cfg.Connections {
		if c != nil && c.KeepConnections != 0 {
			n++
		}
	}
	return n
}

// reserveDescriptors grows the descriptor table to hold n more descriptors than are
// open now, by duplicating src (any open descriptor) to the highest slot needed and
// closing the duplicate. It is best effort: any failure leaves the table to grow on
// demand, as it would anyway.
func reserveDescriptors(src, n int) {
	highest, err := highestOpenDescriptor()
	if err != nil {
		return
	}
	want := min(highest+n, maxReservedDescriptors-1)
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < uint64(maxReservedDescriptors) {
		want = min(want, int(lim.Cur)-1)
	}
	if want < 64 { // the table every process starts with holds 64
		return
	}
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(src), syscall.F_DUPFD_CLOEXEC, uintptr(want))
	if errno == 0 {
		syscall.Close(int(r))
	}
}

// highestOpenDescriptor is the largest descriptor number open in this process.
func highestOpenDescriptor() (int, error) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return 0, err
	}
	highest := 0
	for _, name := range names {
		if fd, err := strconv.Atoi(name); err == nil && fd > highest {
			highest = fd
		}
	}
	return highest, nil
}

//go:build !race

package engine

import (
	"syscall"
	"unsafe"
)

// recvNow is recv(2) that never blocks (MSG_DONTWAIT), made as a raw system call like
// sendNow. rawrecv_race.go is the race detector's version.
func recvNow(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)),
		syscall.MSG_DONTWAIT, 0, 0)
	return int(n), e
}

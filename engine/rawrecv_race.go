//go:build race

package engine

import "syscall"

// recvNow under the race detector reads through syscall.Read (the socket is non-blocking),
// whose annotation makes what a peer wrote through package syscall happen before what we
// read, as the net package's reads do. A raw recv would hide that order from the detector
// and turn every test server's state, read after a response arrived, into a reported race.
func recvNow(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	if err != nil {
		if e, ok := err.(syscall.Errno); ok {
			return 0, e
		}
		return 0, syscall.EIO // syscall.Read reports only Errno values; never a panic
	}
	return n, 0
}

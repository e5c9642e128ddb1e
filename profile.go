//go:build hcprofile

package main

// This file exists only in a library built with -tags hcprofile, for `make bench-pprof`:
// it profiles the engine inside a C host, where the cgo transitions, the host's threads
// and real sockets are, which the engine's Go benchmarks cannot show. The shipped
// libhc.so has none of it (profile_off.go): CPU profiling installs a SIGPROF handler,
// and a library must not install signal handlers in its host.
//
// With HC_PPROF=PREFIX in the environment, hc_init starts a CPU profile and samples
// allocations (one sample per HC_PPROF_MEMRATE bytes, default 4096: a request allocates
// a few hundred); hc_shutdown writes PREFIX.cpu.pprof and PREFIX.allocs.pprof, for
// `go tool pprof`.

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
)

var profiling struct {
	sync.Mutex
	prefix string
	cpu    *os.File
}

// startProfiles starts the profiles that HC_PPROF asks for; an error is the hc_init
// error text (the run would otherwise measure nothing and say so late).
func startProfiles() error {
	prefix := os.Getenv("HC_PPROF")
	profiling.Lock()
	defer profiling.Unlock()
	if prefix == "" || profiling.cpu != nil { // a retried hc_init keeps the first profile
		return nil
	}
	rate := 4096
	if s := os.Getenv("HC_PPROF_MEMRATE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("HC_PPROF_MEMRATE: %q is not a positive number of bytes", s)
		}
		rate = n
	}
	f, err := os.Create(prefix + ".cpu.pprof")
	if err != nil {
		return fmt.Errorf("HC_PPROF: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("HC_PPROF: %v", err)
	}
	runtime.MemProfileRate = rate
	profiling.prefix, profiling.cpu = prefix, f
	return nil
}

// stopProfiles ends the CPU profile and writes the allocations sampled since
// startProfiles. Only the first call after startProfiles writes anything.
func stopProfiles() {
	profiling.Lock()
	defer profiling.Unlock()
	if profiling.cpu == nil {
		return
	}
	pprof.StopCPUProfile()
	profiling.cpu.Close()
	profiling.cpu = nil
	runtime.GC() // the allocation profile is as of the last collection
	// hc_shutdown has no way to report a failure here: a profile not written whole is
	// removed, and make bench-pprof says that it is missing.
	path := profiling.prefix + ".allocs.pprof"
	if f, err := os.Create(path); err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err != nil || cerr != nil {
			os.Remove(path)
		}
	}
}

package main

// This file owns the process-wide library state behind hc_init: the one configuration and
// engine of this process, and the Go runtime settings a host with many worker processes
// needs (GOMAXPROCS, a memory limit, where a fatal error report goes).

/*
#include "capi.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/hcproject/hc/engine"
)

// library is what a successful hc_init leaves behind. It never changes afterwards: a new
// configuration means a new process (a Go runtime cannot be unloaded or reset).
type library struct {
	cfg *engine.Config
	eng *engine.Engine
}

var (
	current  atomic.Pointer[library]
	initMu   sync.Mutex // serialises hc_init so only one can succeed
	crashLog *os.File   // kept open for the life of the process
)

// loaded returns the initialised library, or the code that says why there is none.
func loaded() (*library, C.int) {
	lib := current.Load()
	if lib == nil {
		return nil, C.HC_E_NOT_INIT
	}
	return lib, C.HC_OK
}

// initLibrary parses the settings, applies the runtime settings and builds the engine.
func initLibrary(settings string) (C.int, string) {
	initMu.Lock()
	defer initMu.Unlock()
	if current.Load() != nil {
		return C.HC_E_ALREADY_INIT, "hc_init: the library is already initialised in this process"
	}
	cfg, err := engine.ParseSettings(settings)
	if err != nil {
		return C.HC_E_CONFIG, err.Error()
	}
	if name, ok := otherGoRuntime(); ok {
		return C.HC_E_MULTI_RUNTIME, fmt.Sprintf("hc_init: another Go runtime is loaded in this process (%s); only one is supported", name)
	}
	if err := applyRuntimeSettings(cfg); err != nil {
		return C.HC_E_CONFIG, err.Error()
	}
	if err := startProfiles(); err != nil {
		return C.HC_E_CONFIG, err.Error()
	}
	eng, err := engine.New(cfg)
	if err != nil {
		return C.HC_E_CONFIG, err.Error()
	}
	eng.SetBodyAllocator(cBodies{}) // large bodies are read into the C result's block
	current.Store(&library{cfg: cfg, eng: eng})
	return C.HC_OK, ""
}

// defaultGCPercent is hc's GOGC unless the environment sets one.
const defaultGCPercent = 25

// applyRuntimeSettings sizes the Go runtime for a host process: Go would otherwise size
// itself for every CPU, in each of a host's many worker processes.
func applyRuntimeSettings(cfg *engine.Config) error {
	if cfg.CrashLog != "" {
		f, err := os.OpenFile(cfg.CrashLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("crash_log: %v", err)
		}
		if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
			f.Close()
			return fmt.Errorf("crash_log: %v", err)
		}
		crashLog = f
	}
	if cfg.GoMaxProcs > 0 {
		runtime.GOMAXPROCS(cfg.GoMaxProcs)
	}
	// Go's default (GOGC=100) lets the heap grow to 4 MiB of mostly garbage between
	// collections, which a library's tiny live heap does not need: a quarter of that keeps
	// the host's RSS about 2.5 MiB lower for a few more, cheap, collections (BENCHMARKS.md).
	// The host's own GOGC, when set, wins.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(cfg.MemoryLimit)
	}
	return nil
}

// otherGoRuntime reports another loaded Go runtime (golang/go#18976: unsupported; the
// runtime loaded first silently loses async preemption).
func otherGoRuntime() (string, bool) {
	var buf [512]C.char
	if C.hc__other_go_runtime(&buf[0], C.size_t(len(buf))) == 0 {
		return "", false
	}
	return C.GoString(&buf[0]), true
}

//go:build !hcprofile

package main

// The shipped library's profiling hooks do nothing: see profile.go, built only with
// -tags hcprofile for `make bench-pprof`.

func startProfiles() error { return nil }

func stopProfiles() {}

// Benchmark of the synchronous path's per-request cost (CPU, allocations) on a kept
// connection, against the allocation-free server of background_bench_test.go:
//
//	go test -run - -bench Sync -benchmem ./engine
//	go test -run - -bench Sync -memprofile mem.out ./engine

package engine

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func BenchmarkSync(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 128)
	response := fmt.Sprintf("HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	base := strings.TrimSuffix(strings.TrimPrefix(fixedServer(b, response), "http://"), "/small")
	c := testConn("b", "http", base)
	c.KeepConnections = 1
	e, err := New(testConfig(c))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := e.HTTPConnect("b", "/small", OptString{}, nil)
		if r.Status != 200 || len(r.Body) != len(body) {
			b.Fatalf("result %d %s", r.Status, r.Message)
		}
		e.discardBody(r.Body, r.BodyExternal)
	}
}

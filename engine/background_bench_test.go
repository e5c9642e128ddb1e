// Benchmarks of the background path's per-request cost (CPU, allocations), against a
// minimal keep-alive server on 127.0.0.1 that allocates nothing per request, so that
// -benchmem counts the engine's allocations. The C-level comparison with libcurl is
// make bench (BENCHMARKS.md); these isolate the engine for profiles:
//
//	go test -run - -bench Background -benchmem ./engine
//	go test -run - -bench 'Background/64' -cpuprofile cpu.out -memprofile mem.out ./engine

package engine

import (
	"bytes"
	"fmt"
	"net"
	"testing"
)

// fixedServer answers every request head on every connection with the same response.
func fixedServer(b *testing.B, response string) string {
	b.Helper()
	resp := []byte(response)
	s := startTrackedServer(b, func(c net.Conn) {
		buf := make([]byte, 4096)
		have := 0
		for {
			n, err := c.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
			for {
				i := bytes.Index(buf[:have], []byte("\r\n\r\n"))
				if i < 0 {
					break
				}
				if _, err := c.Write(resp); err != nil {
					return
				}
				have = copy(buf, buf[i+4:have])
			}
		}
	})
	return "http://" + s.ln.Addr().String() + "/small"
}

func BenchmarkBackground(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 128)
	response := fmt.Sprintf("HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	for _, inFlight := range []int{1, 64, 256} {
		b.Run(fmt.Sprint(inFlight), func(b *testing.B) {
			url := OptString{Value: fixedServer(b, response), Set: true}
			cfg := testConfig()
			cfg.Pools = []PoolConfig{{ID: "b", MaxTotal: inFlight}}
			e, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			b.ReportAllocs()
			b.ResetTimer()
			started, done := 0, 0
			for done < b.N {
				for started < b.N && started-done < inFlight {
					if _, err := e.SubmitRequest("b", url, nil, nil, false); err != nil {
						b.Fatal(err)
					}
					started++
				}
				for r := e.Poll(-1); r != nil; r = e.Poll(0) {
					if r.Status != 200 || len(r.Content) != len(body) {
						b.Fatalf("result %d %q %s", r.Status, r.Error, r.Detail)
					}
					e.Release(r) // as libhc's export does once it has copied the result
					done++
				}
			}
		})
	}
}

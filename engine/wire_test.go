package engine

import (
	"bufio"
	"bytes"
	"testing"
)

// TestReadHeadSizesHeaderBlockOnce: the synchronous reader allocates a response's header
// block once, at its final size, when the head has arrived whole (as it does from nginx).
// It used to leave out the first field, and every such response grew the block once more
// (436 of the 1 626 bytes a kept-connection request allocated, `make bench-pprof`).
func TestReadHeadSizesHeaderBlockOnce(t *testing.T) {
	nginx := "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 24 Nov 2026 19:34:21 GMT\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Length: 128\r\n" +
		"Last-Modified: Tue, 24 Nov 2026 19:30:02 GMT\r\nConnection: keep-alive\r\n" +
		"ETag: \"6924b25a-80\"\r\nAccept-Ranges: bytes\r\n\r\n"
	for _, tc := range []struct {
		name, head string
		allocs     float64 // the response, its header block, the Content-Type kept
	}{
		{"nginx", nginx, 3},
		{"one field", "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire := []byte(tc.head + string(bytes.Repeat([]byte("b"), 128)))
			rd := bytes.NewReader(wire)
			pc := pconn{br: bufio.NewReaderSize(rd, readerSize)}
			var resp *response
			allocs := testing.AllocsPerRun(50, func() {
				rd.Reset(wire)
				pc.br.Reset(rd)
				var err *curlError
				if resp, err = pc.readHead(&headerCounter{}, false); err != nil {
					t.Fatal(err)
				}
			})
			want := tc.head[bytes.IndexByte([]byte(tc.head), '\n')+1 : len(tc.head)-2]
			if string(resp.header) != want {
				t.Fatalf("header block %q, want %q", resp.header, want)
			}
			if len(resp.header) != cap(resp.header) {
				t.Errorf("header block of %d bytes in %d: not sized once", len(resp.header), cap(resp.header))
			}
			if allocs != tc.allocs {
				t.Errorf("%.0f allocations per head, want %.0f", allocs, tc.allocs)
			}
		})
	}
}

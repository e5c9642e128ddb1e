package engine

import (
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoopable: only requests whose transfer can never block the loop's thread go to the
// event loop; every other one keeps a goroutine.
func TestLoopable(t *testing.T) {
	e := bgtEngine(t, `pool = {"id":"p"}`)
	for _, tc := range []struct {
		name, url, options string
		body               string
		want               bool
	}{
		{"http to an IPv4 address", "http://127.0.0.1:8080/x", "", "", true},
		{"http to an IPv6 address", "http://[::1]:8080/x", "", "", true},
		{"string body", "http://127.0.0.1:8080/x", "", "a=b", true},
		{"timeouts and headers", "http://127.0.0.1/x", `{"timeout": 2, "connect_timeout": 1, "headers": ["X-A: b"]}`, "", true},
		{"host name (resolver)", "http://localhost:8080/x", "", "", false},
		{"https (TLS, HTTP/2)", "https://127.0.0.1:8443/x", "", "", false},
		{"redirects followed", "http://127.0.0.1/x", `{"redirects": 3}`, "", false},
		{"proxy", "http://127.0.0.1/x", `{"proxy": "http://127.0.0.1:3128"}`, "", false},
		{"source address", "http://127.0.0.1/x", `{"sourceip": "127.0.0.1"}`, "", false},
		{"bad URL", "http://127.0.0.1:99999/x", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []byte
			if tc.options != "" {
				opts = []byte(tc.options)
			}
			spec, err := ParseBackgroundRequest(tc.url, opts, []byte(tc.body), tc.body != "")
			if err != nil {
				t.Fatal(err)
			}
			if got := e.loopable(spec); got != tc.want {
				t.Errorf("loopable(%s %s) = %v, want %v", tc.url, tc.options, got, tc.want)
			}
		})
	}
}

// TestEventLoopManyInFlight: 256 requests in flight on the loop, each held by the server
// until all have arrived, so that none can finish before the last one is sent: the one
// thread serves them all at once, and every result arrives exactly once.
func TestEventLoopManyInFlight(t *testing.T) {
	bgtWatchdog(t, 30*time.Second)
	const n = 256
	var arrived atomic.Int32
	all := make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(10 * time.Second):
		}
		_, _ = w.Write([]byte(strings.TrimPrefix(r.URL.Path, "/")))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	e := bgtEngine(t, `pool = {"id":"p", "max_total": 256, "queue": 256}`)
	want := make(map[uint64]string, n)
	for i := range n {
		path := "r" + string(rune('a'+i%26)) + time.Duration(i).String()
		want[bgtSubmit(t, e, "p", "http://"+ln.Addr().String()+"/"+path, nil)] = path
	}
	for id, r := range bgtPollN(t, e, n, 20*time.Second) {
		if r.Status != 200 || string(r.Content) != want[id] {
			t.Errorf("id %d: status %d content %q, want 200 %q (%s %s)", id, r.Status, r.Content, want[id], r.Error, r.Detail)
		}
	}
	if got := arrived.Load(); got != n {
		t.Errorf("server saw %d requests, want %d", got, n)
	}
}

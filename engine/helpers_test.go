// Test helpers shared by the request-side tests: configs built by hand and a raw TCP
// server that records the exact bytes of every request.

package engine

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testConfig returns a Config with Kamailio's defaults and the given connections.
func testConfig(conns ...*Connection) *Config {
	cfg := &Config{Defaults: DefaultDefaults(), QueryResult: DefaultQueryResult}
	cfg.Connections = conns
	cfg.HTTPConCount = len(conns)
	return cfg
}

// testConn returns a connection with the default settings for scheme://base.
func testConn(name, scheme, base string) *Connection {
	d := DefaultDefaults()
	return &Connection{
		Name: name, Scheme: scheme, URL: base,
		UserAgent: d.UserAgent, Timeout: d.ConnectionTimeout,
		VerifyPeer: d.VerifyPeer, VerifyHost: d.VerifyHost, AuthMethod: d.AuthMethod,
	}
}

func newTestEngine(t *testing.T, cfg *Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// rawRequest is one request as received on the wire.
type rawRequest struct {
	conn   int
	line   string
	head   []string // header lines as sent
	body   []byte
	rawHdr string
}

func (r rawRequest) header(name string) []string {
	var out []string
	for _, h := range r.head {
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// rawServer is a keep-alive HTTP/1.1 server that answers every request with respond and
// records what it received.
type rawServer struct {
	ln      net.Listener
	respond func(r rawRequest) string // full response bytes; "" closes without answer
	mu      sync.Mutex
	reqs    []rawRequest
	nconn   int
}

func newRawServer(t *testing.T, respond func(r rawRequest) string) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, respond: respond}
	go s.serve()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *rawServer) addr() string { return s.ln.Addr().String() }

func (s *rawServer) requests() []rawRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rawRequest(nil), s.reqs...)
}

func (s *rawServer) conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nconn
}

func (s *rawServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		id := s.nconn
		s.nconn++
		s.mu.Unlock()
		go s.handle(c, id)
	}
}

func (s *rawServer) handle(c net.Conn, id int) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		tp := textproto.NewReader(br)
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		var head []string
		var raw bytes.Buffer
		for {
			l, err := tp.ReadLine()
			if err != nil {
				return
			}
			if l == "" {
				break
			}
			head = append(head, l)
			raw.WriteString(l + "\r\n")
		}
		r := rawRequest{conn: id, line: line, head: head, rawHdr: raw.String()}
		if cl := r.header("Content-Length"); len(cl) > 0 {
			n, _ := strconv.Atoi(cl[0])
			r.body = make([]byte, n)
			if _, err := io.ReadFull(br, r.body); err != nil {
				return
			}
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		s.mu.Unlock()
		resp := s.respond(r)
		if resp == "" {
			return
		}
		if _, err := io.WriteString(c, resp); err != nil {
			return
		}
	}
}

// httpResponse builds a simple response.
func httpResponse(status int, headers, body string) string {
	return "HTTP/1.1 " + strconv.Itoa(status) + " X\r\n" + headers + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// replyAndClose starts a server that reads once, writes reply and closes the connection.
func replyAndClose(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				_, _ = io.WriteString(c, reply)
			}(c)
		}
	}()
	return ln.Addr().String()
}

// trackedServer is a listener on 127.0.0.1 that runs handle for every accepted
// connection and tracks the connections, so that close ends them all and waits for
// every handler: a test that closes it leaves no goroutine or descriptor behind.
type trackedServer struct {
	ln     net.Listener
	handle func(c net.Conn) // the server closes c when handle returns

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func startTrackedServer(t testing.TB, handle func(c net.Conn)) *trackedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &trackedServer{ln: ln, handle: handle, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { s.close(t) })
	return s
}

func (s *trackedServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			s.handle(c)
		}()
	}
}

// close stops the server, ends its connections and waits (bounded) for its handlers.
func (s *trackedServer) close(t testing.TB) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("server %s: handlers still running 10 s after close", s.ln.Addr())
	}
}

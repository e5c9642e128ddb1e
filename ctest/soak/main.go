// Command soak runs hc's engine for a long, bounded time and samples its footprint
// (make soak; not part of make test). It sends N mixed requests — half through the
// synchronous front door (Kamailio's http_connect on kept and unkept connections and
// http_client_query), half as background requests (Halon's pools, polled) — to a local
// server running in a child process, 5 % of them to fault paths (reset mid-body, close
// without answer, garbage status line, never answering, 500, a refused port). Every
// result is checked against what its path provokes. Every 10 000 requests it records
// RSS, Go heap in use, goroutines, descriptors and threads; at the end it writes the
// series and prints the least-squares slope of each column per 10 000 requests.
//
// The engine is driven in-process, not through libhc.so, because the goroutine count
// is only visible from inside the Go runtime and libhc has no export for it. The C
// layer's own memory (the result blocks) is covered by make asan (LeakSanitizer) and
// make valgrind. The server runs in a child process so that its sockets and goroutines
// are not counted.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hcproject/hc/engine"
)

func main() {
	serve := flag.Bool("serve", false, "run the test server (child mode): print its address, serve until stdin closes")
	total := flag.Int("n", 200000, "requests in total")
	every := flag.Int("every", 10000, "sample every this many requests")
	faultPct := flag.Int("faults", 5, "percentage of requests sent to fault paths")
	out := flag.String("out", "build/soak/series.dat", "where to write the series")
	workers := flag.Int("workers", 8, "goroutines making synchronous calls")
	flag.Parse()
	if *serve {
		runServer()
		return
	}
	if err := run(*total, *every, *faultPct, *workers, *out); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// ---- the server (child process) -----------------------------------------------------

const okBody = "soak ok\n"

var bigBody = strings.Repeat("b", 64<<10)

// runServer serves raw HTTP/1.1 on 127.0.0.1 until its stdin closes (the parent died).
func runServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go serveConn(c)
	}
}

func serveConn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		path, body, err := readRequest(br)
		if err != nil {
			return
		}
		switch path {
		case "/ok":
			_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "+strconv.Itoa(len(okBody))+"\r\n\r\n"+okBody)
		case "/big":
			_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(bigBody))+"\r\n\r\n"+bigBody)
		case "/echo":
			_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
		case "/500":
			_, err = io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom")
		case "/reset":
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("r", 3000))
			time.Sleep(5 * time.Millisecond)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			return
		case "/close":
			return
		case "/garbage":
			_, _ = io.WriteString(c, "\x00garbage, not HTTP\r\n\r\n")
			return
		case "/stall":
			_, _ = io.Copy(io.Discard, br) // until the client gives up
			return
		default:
			_, err = io.WriteString(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
		}
		if err != nil {
			return
		}
	}
}

func readRequest(br *bufio.Reader) (path, body string, err error) {
	n := 0
	for first := true; ; first = false {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if first {
			if f := strings.Fields(line); len(f) >= 2 {
				path = f[1]
				if i := strings.IndexByte(path, '?'); i >= 0 {
					path = path[:i]
				}
			}
			continue
		}
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	b := make([]byte, n)
	_, err = io.ReadFull(br, b)
	return path, string(b), err
}

// ---- the driver ---------------------------------------------------------------------

// kind is one request shape and the result it must give.
type kind struct {
	name   string
	path   string
	fault  bool
	sync   func(e *engine.Engine, base string) *engine.Result // nil: background only
	bgOpts string                                             // "" : synchronous only
	status int                                                // want this status, or
	curl   int                                                // this curl code
}

var echoPayload = []byte("soak payload 0123456789")

func kinds(refused string) []kind {
	connect := func(con, path string) func(*engine.Engine, string) *engine.Result {
		return func(e *engine.Engine, _ string) *engine.Result {
			return e.HTTPConnect(con, path, engine.OptString{}, nil)
		}
	}
	query := func(path string) func(*engine.Engine, string) *engine.Result {
		return func(e *engine.Engine, base string) *engine.Result { return e.Query(base+path, nil, "") }
	}
	return []kind{
		// normal traffic
		{name: "sync kept /ok", sync: connect("kept", "/ok"), status: 200},
		{name: "sync unkept /big", sync: connect("plain", "/big"), status: 200},
		{name: "sync query /ok", sync: query("/ok"), status: 200},
		{name: "sync kept POST /echo", sync: func(e *engine.Engine, _ string) *engine.Result {
			return e.HTTPConnect("kept", "/echo", engine.Some("text/plain"), echoPayload)
		}, status: 200},
		{name: "bg /ok", path: "/ok", bgOpts: `{"timeout": 5}`, status: 200},
		{name: "bg /big", path: "/big", bgOpts: `{"timeout": 5}`, status: 200},
		// faults
		{name: "sync reset", sync: connect("kept", "/reset"), fault: true, curl: 56},
		{name: "sync close", sync: query("/close"), fault: true, curl: 52},
		{name: "sync garbage", sync: connect("plain", "/garbage"), fault: true, curl: 1},
		{name: "sync 500", sync: connect("kept", "/500"), fault: true, status: 500},
		{name: "sync refused", sync: func(e *engine.Engine, _ string) *engine.Result {
			return e.Query("http://"+refused+"/", nil, "")
		}, fault: true, curl: 7},
		{name: "bg stall", path: "/stall", bgOpts: `{"timeout": 0.2}`, fault: true, curl: 28},
		{name: "bg reset", path: "/reset", bgOpts: `{"timeout": 5}`, fault: true, curl: 56},
		{name: "bg close", path: "/close", bgOpts: `{"timeout": 5}`, fault: true, curl: 52},
	}
}

// check says what is wrong with a result ("" when nothing).
func (k *kind) check(status, curl int, body []byte) string {
	if k.status != 0 {
		if status != k.status || curl != 0 {
			return fmt.Sprintf("status %d curl %d, want status %d", status, curl, k.status)
		}
		if k.status == 200 {
			switch {
			case strings.HasSuffix(k.name, "/ok") && string(body) != okBody && string(body) != strings.TrimSuffix(okBody, "\n"):
				return fmt.Sprintf("body %q", body)
			case strings.HasSuffix(k.name, "/big") && len(body) != len(bigBody):
				return fmt.Sprintf("body of %d bytes", len(body))
			case strings.HasSuffix(k.name, "/echo") && string(body) != string(echoPayload):
				return fmt.Sprintf("echo %q", body)
			}
		}
		return ""
	}
	if curl != k.curl || status != 0 {
		return fmt.Sprintf("status %d curl %d, want curl %d", status, curl, k.curl)
	}
	return ""
}

// sample is one line of the series.
type sample struct {
	requests   int
	rssKiB     int
	heapKiB    int
	goroutines int
	fds        int
	threads    int
}

func procStatus(field string) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return -1
}

func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func takeSample(n int) sample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return sample{requests: n, rssKiB: procStatus("VmRSS"), heapKiB: int(ms.HeapInuse >> 10),
		goroutines: runtime.NumGoroutine(), fds: countFDs(), threads: procStatus("Threads")}
}

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

func startServer() (addr string, stop func(), err error) {
	cmd := exec.Command("/proc/self/exe", "-serve")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return "", nil, fmt.Errorf("server: %w", err)
	}
	return strings.TrimSpace(line), func() { stdin.Close(); _ = cmd.Wait() }, nil
}

func refusedAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	a := ln.Addr().String()
	ln.Close()
	return a, nil
}

func run(total, every, faultPct, workers int, out string) error {
	if total <= 0 || every <= 0 || faultPct < 0 || faultPct > 100 || workers <= 0 {
		return errors.New("bad arguments")
	}
	addr, stop, err := startServer()
	if err != nil {
		return err
	}
	defer stop()
	refused, err := refusedAddr()
	if err != nil {
		return err
	}
	cfg, err := engine.ParseSettings("connection_timeout = 2\n" +
		"httpcon = plain=>http://" + addr + "\n" +
		"keep_connections = 1\n" +
		"httpcon = kept=>http://" + addr + "\n" +
		`pool = {"id": "a", "max_total": 16, "max_host": 8}` + "\n")
	if err != nil {
		return err
	}
	e, err := engine.New(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	base := "http://" + addr
	ks := kinds(refused)
	var normal, faults []*kind
	for i := range ks {
		if ks[i].fault {
			faults = append(faults, &ks[i])
		} else {
			normal = append(normal, &ks[i])
		}
	}
	// pick is request n's kind: faultPct in 100 go to the fault kinds, in turn.
	pick := func(n int) *kind {
		if n%100 < faultPct {
			return faults[(n/100)%len(faults)]
		}
		return normal[n%len(normal)]
	}

	var (
		next, done atomic.Int64
		mu         sync.Mutex
		bad        []string
		counts     = make(map[string]int)
		series     []sample
		pending    sync.Map // background id -> *kind
	)
	fail := func(format string, a ...any) {
		mu.Lock()
		if len(bad) < 20 {
			bad = append(bad, fmt.Sprintf(format, a...))
		} else {
			bad = append(bad[:20], "...")
		}
		mu.Unlock()
	}
	finished := func(k *kind) {
		mu.Lock()
		counts[k.name]++
		mu.Unlock()
		// Samples are taken under load, every `every` requests; the one at `total` is
		// taken after the run, idle (see below).
		if n := done.Add(1); n%int64(every) == 0 && n < int64(total) {
			s := takeSample(int(n))
			mu.Lock()
			series = append(series, s)
			mu.Unlock()
			fmt.Printf("%7d requests: rss %6d KiB, go heap %6d KiB, goroutines %4d, fds %4d, threads %3d\n",
				s.requests, s.rssKiB, s.heapKiB, s.goroutines, s.fds, s.threads)
		}
	}
	// The poller: every background result, checked against its kind.
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		for done.Load() < int64(total) {
			r := e.Poll(100 * time.Millisecond)
			if r == nil {
				continue
			}
			v, ok := pending.LoadAndDelete(r.ID)
			if !ok {
				// Its submitter may still be between Submit and Store: wait for it.
				submitMu.Lock()
				submitMu.Unlock() //nolint:staticcheck // an empty critical section is the wait
				v, ok = pending.LoadAndDelete(r.ID)
			}
			if !ok {
				fail("result for unknown id %d", r.ID)
				continue
			}
			k := v.(*kind)
			if why := k.check(r.Status, r.CurlCode, r.Content); why != "" || r.Outcome != engine.Completed {
				fail("%s (id %d): %s, outcome %d (%s)", k.name, r.ID, why, r.Outcome, r.Detail)
			}
			finished(k)
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= total {
					return
				}
				k := pick(n)
				if k.sync == nil {
					// At most 256 background requests in flight: the pool's queue
					// (4096) is never the limit, the server's pace is.
					for int(next.Load())-int(done.Load()) > 256 {
						time.Sleep(time.Millisecond)
					}
					spec, err := engine.ParseBackgroundRequest(base+k.path, []byte(k.bgOpts), nil, false)
					if err != nil {
						fail("%s: %v", k.name, err)
						finished(k)
						continue
					}
					if err := submitWith(e, spec, k, &pending); err != nil {
						fail("%s: submit: %v", k.name, err)
						finished(k)
					}
					continue
				}
				res := k.sync(e, base)
				if why := k.check(res.Status, res.CurlCode, res.Body); why != "" {
					fail("%s: %s (%s)", k.name, why, res.Message)
				}
				finished(k)
			}
		}()
	}
	wg.Wait()
	select {
	case <-pollDone:
	case <-time.After(60 * time.Second):
		fail("background results missing 60 s after the last submission: %d of %d done", done.Load(), total)
	}
	took := time.Since(start)
	e.Shutdown(time.Second)
	// The idle end state: every request has ended, the kept connections stay.
	time.Sleep(500 * time.Millisecond)
	runtime.GC()
	idle := takeSample(total)
	series = append(series, idle)
	fmt.Printf("%7d requests, idle: rss %6d KiB, go heap %6d KiB, goroutines %4d, fds %4d, threads %3d\n",
		idle.requests, idle.rssKiB, idle.heapKiB, idle.goroutines, idle.fds, idle.threads)

	if err := writeSeries(out, series); err != nil {
		return err
	}
	// Slopes over the samples under load (the idle one is another regime).
	load := series[:len(series)-1]
	if len(load) < 2 {
		return fmt.Errorf("only %d samples under load: lower -every", len(load))
	}
	xs := make([]float64, len(load))
	col := func(f func(sample) int) []float64 {
		ys := make([]float64, len(load))
		for i, s := range load {
			xs[i] = float64(s.requests) / float64(every)
			ys[i] = float64(f(s))
		}
		return ys
	}
	fmt.Printf("soak: %d requests (%d %% faults) in %v, %.0f req/s; %d samples under load + 1 idle in %s\n",
		total, faultPct, took.Round(time.Second), float64(total)/took.Seconds(), len(load), out)
	for _, c := range []struct {
		name string
		f    func(sample) int
	}{
		{"rss KiB", func(s sample) int { return s.rssKiB }},
		{"go heap KiB", func(s sample) int { return s.heapKiB }},
		{"goroutines", func(s sample) int { return s.goroutines }},
		{"descriptors", func(s sample) int { return s.fds }},
		{"threads", func(s sample) int { return s.threads }},
	} {
		ys := col(c.f)
		half := len(ys) / 2
		fmt.Printf("soak: %-12s first %7.0f last under load %7.0f idle %7d  slope %+8.2f per %d requests (second half %+8.2f)\n",
			c.name, ys[0], ys[len(ys)-1], c.f(idle), slope(xs, ys), every, slope(xs[half:], ys[half:]))
	}
	names := make([]string, 0, len(counts))
	for _, k := range ks {
		names = append(names, fmt.Sprintf("%s=%d", k.name, counts[k.name]))
	}
	fmt.Printf("soak: by kind: %s\n", strings.Join(names, ", "))
	if len(bad) > 0 {
		return fmt.Errorf("%d unexpected results, e.g.:\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
	if int(done.Load()) != total {
		return fmt.Errorf("%d of %d requests accounted for", done.Load(), total)
	}
	return nil
}

// submitMu is held from Submit until the id's kind is stored: Submit starts the request
// at once, so its result can reach the poller first, which then waits on submitMu.
var submitMu sync.Mutex

// submitWith submits spec on pool "a" and records its kind under the id.
func submitWith(e *engine.Engine, spec *engine.BackgroundSpec, k *kind, pending *sync.Map) error {
	submitMu.Lock()
	defer submitMu.Unlock()
	id, err := e.Submit("a", spec)
	if err == nil {
		pending.Store(id, k)
	}
	return err
}

func writeSeries(path string, series []sample) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# requests rss_kib go_heap_kib goroutines fds threads\n")
	for _, s := range series {
		fmt.Fprintf(&b, "%d %d %d %d %d %d\n", s.requests, s.rssKiB, s.heapKiB, s.goroutines, s.fds, s.threads)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

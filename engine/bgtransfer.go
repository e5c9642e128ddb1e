// This file owns how one background request is performed: Halon's option semantics
// mapped onto the same transfer as the synchronous calls (request.go: one engine, two
// front doors), inside its pool's max_total and max_host limits, with the request's own
// connection identity (TLS options, client certificate, proxy, source address), and with
// a stop (cancel, shutdown, total timeout) turned into curl's codes.

package engine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"
)

// perform runs j and returns its result. It never blocks past j's timeout or stop.
func (e *Engine) perform(j *job) *BackgroundResult {
	spec := j.spec
	ctx := j.ctx
	if spec.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, j.submitted.Add(spec.Timeout))
		defer cancel()
	}
	if spec.URLError != 0 {
		return errorResult(newCurlError(spec.URLError, "URL rejected: "+redactURL(spec.URL)))
	}
	u := spec.parsed
	if u == nil || spec.parsedFrom != spec.URL {
		var cerr *curlError
		if u, cerr = parseCurlURL(spec.URL, parseOptions{}); cerr != nil {
			return errorResult(cerr)
		}
	}

	// The limits are waited for inside the timeout, as with curl's pending transfers,
	// unless the loop took them before it handed the job over.
	var timings Timings
	h := j.handoff
	if h != nil && h.limits.held() {
		timings = h.timings
		if timings.Queue == 0 {
			timings.Queue = time.Since(j.submitted)
		}
		defer h.limits.release()
	} else {
		held, err := j.pool.acquire(ctx, u.originKey(), true)
		if err != nil {
			out := errorResult(stopError(ctx))
			out.Timings.Queue = time.Since(j.submitted) // it was stopped while waiting
			return out
		}
		defer held.release()
		timings = Timings{Queue: time.Since(j.submitted)}
	}

	r, cerr := e.backgroundRequest(ctx, j, spec)
	if cerr != nil {
		if h != nil && h.sent != nil {
			h.sent.release()
		}
		return errorResult(cerr)
	}
	if h != nil {
		r.sent, r.fresh = h.sent, h.fresh
	}
	r.timings, r.timingsFrom = &timings, j.submitted
	r.parsedURL = u
	res := e.transfer(r, spec.URL)
	if res.CurlCode != 0 {
		// An I/O error that only reflects the stop is the stop's. The connection's
		// deadline and the context's timer fire together: either one may be seen first.
		var stop *curlError
		if ctx.Err() != nil {
			stop = stopError(ctx)
		} else if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			stop = newCurlError(curlTimeout, "timeout reached")
		}
		out := errorResult(&curlError{code: res.CurlCode, msg: res.Message}) // curl's text is in front already
		if stop != nil {
			out = transferErrorResult(stop)
		}
		out.Timings = timings
		return out
	}
	return &BackgroundResult{
		Status:          res.Status,
		Content:         res.Body,
		ContentExternal: res.BodyExternal,
		Header:          res.Header,
		EffectiveURL:    res.EffectiveURL,
		HTTPVersion:     res.HTTPVersion,
		Timings:         timings,
	}
}

// backgroundRequest translates a spec into the shared transfer's request.
func (e *Engine) backgroundRequest(ctx context.Context, j *job, spec *BackgroundSpec) (*request, *curlError) {
	r := &request{
		method:         spec.Method,
		custom:         spec.CustomMethod,
		headers:        spec.Headers,
		ctx:            ctx,
		stop:           &j.stop,
		connectTimeout: spec.ConnectTimeout,
		keepAll:        true,
		maxFileSize:    spec.MaxFileSize,
		follow:         spec.Redirects != 0,
		maxRedirs:      max(spec.Redirects, 0),
		tr:             e.backgroundTransport(spec),
		pool:           j.pool.conns,
	}
	if d, ok := ctx.Deadline(); ok {
		r.deadline = d
	}
	if spec.Body.Kind != BodyNone {
		body, ctype, cerr := readBody(spec)
		if cerr != nil {
			return nil, cerr
		}
		r.post, r.body = true, body
		if ctype != "" { // multipart: curl's own Content-Type, with the boundary
			r.headers = append(withoutHeader(spec.Headers, "Content-Type"), "Content-Type: "+ctype)
		}
	}
	if spec.Username.Set {
		if spec.AWSSigV4.Set {
			r.sigv4 = &SigV4Input{Param: spec.AWSSigV4.Value, User: spec.Username.Value,
				Password: spec.Password.Value, Headers: r.headers}
			if spec.Body.Kind == BodyString {
				r.sigv4.Payload = spec.Body.Data
			}
		} else {
			r.creds = &credentials{user: spec.Username.Value, pass: spec.Password.Value, set: true, want: AuthBasic}
		}
	}
	return r, nil
}

// readBody reads the whole body of a spec (files are read now, at transfer time) and
// returns it with the Content-Type curl would generate for it ("" when the headers
// decide).
func readBody(spec *BackgroundSpec) ([]byte, string, *curlError) {
	br, err := spec.OpenBody()
	if err != nil {
		return nil, "", asCurlError(err)
	}
	defer br.Close()
	buf := bytes.NewBuffer(make([]byte, 0, br.Len))
	if _, err := io.Copy(buf, br); err != nil {
		return nil, "", asCurlError(err)
	}
	return buf.Bytes(), br.ContentType, nil
}

// asCurlError keeps a curl code carried by err; anything else is curl's read error (26).
func asCurlError(err error) *curlError {
	var ce *curlError
	if errors.As(err, &ce) {
		return ce
	}
	return newCurlError(mimeReadError, err.Error())
}

// withoutHeader drops the custom entries for name ("Name:..." or "Name;...").
func withoutHeader(entries []string, name string) []string {
	out := make([]string, 0, len(entries)+1)
	for _, h := range entries {
		if len(h) > len(name) && strings.EqualFold(h[:len(name)], name) && (h[len(name)] == ':' || h[len(name)] == ';') {
			continue
		}
		out = append(out, h)
	}
	return out
}

// backgroundTransport returns the transport of the request's identity, made once and
// shared by every background request with the same identity.
func (e *Engine) backgroundTransport(spec *BackgroundSpec) *transport {
	id := identity{
		tls: tlsParams{
			caFile:     e.cfg.CACert,
			verifyPeer: boolInt(spec.VerifyPeer),
			verifyHost: 2 * boolInt(spec.VerifyHost),
			offerHTTP2: true,
			clientPair: spec.ClientCert,
		},
		proxy:   spec.Proxy,
		iface:   spec.SourceIP,
		fromEnv: e.cfg.ProxyFromEnv,
	}
	// Most requests have the identity of the one before: compared as a value, it needs
	// neither the key's text (three allocations) nor the map.
	last := e.bgLast.Load()
	if last != nil && last.id == id {
		return last.t
	}
	key := id.key()
	t, ok := e.bgTransports.Load(key)
	if !ok {
		t, _ = e.bgTransports.LoadOrStore(key, newTransport(id, e.cas))
	}
	e.bgLast.Store(&bgIdentity{id: id, t: t.(*transport)})
	return t.(*transport)
}

// bgIdentity is the identity of the latest background request and its transport. Equal
// identities have equal keys (a client certificate is compared by pointer, stricter
// than its key), so the shortcut never picks another identity's transport.
type bgIdentity struct {
	id identity
	t  *transport
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stopError is the curl error of a transfer stopped by its context: 28 when the total
// timeout expired, 42 when it was cancelled or shut down.
func stopError(ctx context.Context) *curlError {
	cause := context.Cause(ctx)
	if errors.Is(cause, context.DeadlineExceeded) {
		return newCurlError(curlTimeout, "timeout reached")
	}
	if cause == nil {
		cause = ctx.Err()
	}
	return newCurlError(curlAbortedByCallback, cause.Error())
}

// limits are one request's share of its pool's limits: a max_total slot and, with
// max_host, its host's slot. A value, not a closure, so that taking them allocates
// nothing. The zero value holds nothing.
type limits struct {
	p    *bgPool
	hs   *hostSlot
	host string
}

// held reports whether l holds limits to give back.
func (l limits) held() bool { return l.p != nil }

// release gives the limits back.
func (l limits) release() {
	p := l.p
	if p.total != nil {
		p.total.Release(1)
	}
	if l.hs != nil {
		l.hs.sem.Release(1)
		p.dropHost(l.host, l.hs)
	}
	if p.freed != nil {
		p.freed()
	}
}

// acquire takes the pool's limits for one connection to host (host:port): its max_host
// slot first, then a max_total slot, so that a busy host never holds a slot that
// requests to other hosts could use. It waits for them inside ctx, or, without wait,
// fails at once when one is taken.
func (p *bgPool) acquire(ctx context.Context, host string, wait bool) (limits, error) {
	var hs *hostSlot
	if p.cfg.MaxHost > 0 {
		hs = p.hostSlot(host)
		if err := acquireOne(ctx, hs.sem, wait); err != nil {
			p.dropHost(host, hs)
			return limits{}, err
		}
	}
	if p.total != nil {
		if err := acquireOne(ctx, p.total, wait); err != nil {
			if hs != nil {
				hs.sem.Release(1)
				p.dropHost(host, hs)
			}
			return limits{}, err
		}
	}
	return limits{p: p, hs: hs, host: host}, nil
}

// tryAcquire is acquire without waiting (the loop's): ok is false when a limit is taken.
func (p *bgPool) tryAcquire(host string) (limits, bool) {
	l, err := p.acquire(context.Background(), host, false)
	return l, err == nil
}

// errLimitTaken is acquireOne's failure without wait.
var errLimitTaken = errors.New("pool limit taken")

// acquireOne takes one unit of s, waiting inside ctx (with wait) only when none is free:
// Acquire starts with ctx.Done(), which makes the job context's channel (an allocation
// per request) even when a unit is free.
func acquireOne(ctx context.Context, s *semaphore.Weighted, wait bool) error {
	if err := ctx.Err(); err != nil {
		return err // stopped: TryAcquire would succeed all the same
	}
	if s.TryAcquire(1) {
		return nil
	}
	if !wait {
		return errLimitTaken
	}
	return s.Acquire(ctx, 1)
}

// hostSlot is the max_host limit of one host:port, kept while requests use it.
type hostSlot struct {
	sem   *semaphore.Weighted
	users int
}

func (p *bgPool) hostSlot(host string) *hostSlot {
	p.mu.Lock()
	defer p.mu.Unlock()
	hs := p.hosts[host]
	if hs == nil {
		hs = &hostSlot{sem: semaphore.NewWeighted(int64(p.cfg.MaxHost))}
		p.hosts[host] = hs
	}
	hs.users++
	return hs
}

func (p *bgPool) dropHost(host string, hs *hostSlot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if hs.users--; hs.users == 0 {
		delete(p.hosts, host)
	}
}

// This file owns the Engine: the object behind one hc_init, built from a read-only
// Config. It holds one transport per effective identity, the per-connection state that
// Kamailio keeps per process (kept connections, last effective URL, last content type)
// and the counters. An Engine is safe for concurrent use by many goroutines.

package engine

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Engine runs Kamailio http_client requests for one configuration.
type Engine struct {
	cfg     *Config
	conns   map[string]*connState // immutable after New
	queryTr *transport            // identity of the query functions (global settings)
	cnt     counters
	bg      *background   // background pools (background.go)
	alloc   BodyAllocator // memory for large bodies; nil: Go memory (bodyalloc.go)

	cas          *caCache // CA files, loaded once for every identity
	bgTransports sync.Map // identity key -> *transport of background requests
	bgLast       atomic.Pointer[bgIdentity]
}

// connState is the per-process state Kamailio keeps for one named connection
// (curl_con_pkg_t), plus the connection's transport.
type connState struct {
	conn *Connection
	tr   *transport
	pool *connPool // kept connections; nil unless keep_connections

	last atomic.Pointer[connTarget] // the URL of the latest request, parsed

	mu          sync.Mutex
	redirectURL string // effective URL of the last transfer that ended with curl OK
	contentType string // Content-Type of that transfer's final response
	lastResult  int
}

// maxStateURL is Kamailio's 512-byte buffers: values of 511 characters or more are not
// stored.
const maxStateURL = 511

// New builds an Engine. cfg must not be modified afterwards.
func New(cfg *Config) (*Engine, error) {
	if cfg == nil {
		return nil, errors.New("engine: nil config")
	}
	e := &Engine{cfg: cfg, conns: make(map[string]*connState, len(cfg.Connections))}
	e.cnt.connections.Store(uint64(cfg.HTTPConCount))
	cas := &caCache{}
	e.cas = cas
	byKey := make(map[string]*transport)
	get := func(id identity) *transport {
		k := id.key()
		if t, ok := byKey[k]; ok {
			return t
		}
		t := newTransport(id, cas)
		byKey[k] = t
		return t
	}
	for _, c := range cfg.Connections {
		if c == nil {
			continue
		}
		if _, dup := e.conns[c.Name]; dup {
			continue // the first definition wins (Kamailio refuses duplicates anyway)
		}
		cs := &connState{conn: c, tr: get(connIdentity(cfg, c))}
		if c.KeepConnections != 0 {
			cs.pool = &connPool{}
		}
		e.conns[c.Name] = cs
	}
	e.queryTr = get(queryIdentity(cfg))
	bg, err := newBackground(e, cfg.Pools)
	if err != nil {
		return nil, fmt.Errorf("background pools: %w", err)
	}
	e.bg = bg
	// After the background's own descriptors: they are among those already open, and its
	// results pipe is the descriptor the reservation duplicates.
	reserveDescriptors(bg.done.readFD, descriptorsNeeded(cfg))
	return e, nil
}

// Close releases the kept connections, and after a Shutdown the event loop's
// descriptors. The Engine must not be used afterwards.
func (e *Engine) Close() {
	for _, cs := range e.conns {
		if cs.pool != nil {
			cs.pool.closeAll()
		}
	}
	if l := e.bg.loop; l != nil {
		l.release()
	}
}

// tlsIdentity fills the TLS version range, recording curl's setopt failure (43).
func tlsIdentity(p *tlsParams, version int) *curlError {
	if version == 0 {
		return nil
	}
	minV, maxV, err := tlsVersionRange(version)
	if err != nil {
		return err
	}
	p.minV, p.maxV = minV, maxV
	return nil
}

// connIdentity is the identity of a named connection: its own TLS settings and proxy,
// the global cacert and netinterface. Its proxy is used only with a port > 0.
func connIdentity(cfg *Config, c *Connection) identity {
	id := identity{
		tls: tlsParams{
			caFile:     cfg.CACert,
			clientCert: c.ClientCert,
			clientKey:  c.ClientKey,
			ciphers:    c.CipherSuites,
			verifyPeer: c.VerifyPeer,
			verifyHost: c.VerifyHost,
			offerHTTP2: true, // libcurl with nghttp2 offers h2 on every https connection
		},
		iface:   cfg.NetInterface,
		fromEnv: cfg.ProxyFromEnv,
	}
	id.tlsErr = tlsIdentity(&id.tls, c.TLSVersion)
	if c.HTTPProxyPort > 0 && c.HTTPProxy.Set {
		id.proxy, id.proxyPort = c.HTTPProxy, c.HTTPProxyPort
	}
	return id
}

// queryIdentity is the identity of the query functions: the final global values; strings
// are applied only when non-empty, the proxy whenever it is non-empty (port only if > 0).
func queryIdentity(cfg *Config) identity {
	d := cfg.Defaults
	nonEmpty := func(o OptString) OptString {
		if o.Set && o.Value != "" {
			return o
		}
		return OptString{}
	}
	id := identity{
		tls: tlsParams{
			caFile:     cfg.CACert,
			clientCert: nonEmpty(d.ClientCert),
			clientKey:  nonEmpty(d.ClientKey),
			ciphers:    nonEmpty(d.CipherSuites),
			verifyPeer: d.VerifyPeer,
			verifyHost: d.VerifyHost,
			offerHTTP2: true,
		},
		iface:   cfg.NetInterface,
		fromEnv: cfg.ProxyFromEnv,
	}
	id.tlsErr = tlsIdentity(&id.tls, d.TLSVersion)
	if p := nonEmpty(d.HTTPProxy); p.Set {
		id.proxy = p
		if d.HTTPProxyPort > 0 {
			id.proxyPort = d.HTTPProxyPort
		}
	}
	return id
}

// ConnectionExists reports whether a named connection is defined (case-sensitive).
func (e *Engine) ConnectionExists(name string) bool {
	_, ok := e.conns[name]
	return ok
}

// GetRedirect is http_get_redirect: the effective URL of the last transfer on con that
// ended with curl OK ("" after an error), and 1; or "" and -1 for an unknown connection.
func (e *Engine) GetRedirect(con string) (url string, ret int) {
	cs, ok := e.conns[con]
	if !ok {
		return "", -1
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.redirectURL, 1
}

// ContentType is http_get_content_type: the Content-Type of the last response on con
// ("" when none is known); ok is false for an unknown connection.
func (e *Engine) ContentType(con string) (ct string, ok bool) {
	cs, found := e.conns[con]
	if !found {
		return "", false
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.contentType, true
}

// connTarget is a request URL of a named connection, built and parsed. A module calls the
// same few URLs over and over, and building and parsing one costs the same allocations
// each time; a parsed URL is never modified, so requests on many threads share it.
type connTarget struct {
	appended string // what the request appended to the connection's base
	raw      string // buildConnURL's
	u        *reqURL
}

// target returns the URL of a request that appends appended to the connection's base:
// raw as built, and parsed, or a nil u when the URL does not parse (the transfer reports
// why). The latest one is kept.
func (cs *connState) target(appended string) (raw string, u *reqURL) {
	if t := cs.last.Load(); t != nil && t.appended == appended {
		return t.raw, t.u
	}
	raw = buildConnURL(cs.conn, appended)
	u, cerr := parseCurlURL(raw, parseOptions{})
	if cerr != nil {
		return raw, nil
	}
	cs.last.Store(&connTarget{appended: appended, raw: raw, u: u})
	return raw, u
}

// beginRequest clears the per-connection state, as curL_request_url does at its start.
func (cs *connState) beginRequest() {
	cs.mu.Lock()
	cs.redirectURL, cs.contentType = "", ""
	cs.mu.Unlock()
}

// endRequest records the outcome of a transfer on the connection.
func (cs *connState) endRequest(res *Result) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.lastResult = res.Ret
	if res.CurlCode != 0 || res.Ret < 0 {
		return
	}
	if len(res.ContentType) < maxStateURL {
		cs.contentType = res.ContentType
	}
	if len(res.EffectiveURL) < maxStateURL {
		cs.redirectURL = res.EffectiveURL
	}
}

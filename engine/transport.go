// This file owns connection establishment for one effective identity (TLS settings, proxy,
// netinterface): the transport built once in New and reused by every request with that
// identity. It dials TCP (bound to the netinterface address), speaks to an HTTP proxy
// (CONNECT for https), runs the TLS handshake with libcurl's verification split (offering
// h2 to the origin, never to the proxy; h2.go takes over when it is selected), and keeps
// the per-connection pool used by keep_connections.

package engine

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// identity is everything that decides how a connection is made.
type identity struct {
	tls       tlsParams
	tlsErr    *curlError // setopt failure (tlsversion), 43
	proxy     OptString  // CURLOPT_PROXY; unset = none (or the environment)
	proxyPort int        // CURLOPT_PROXYPORT when > 0
	iface     OptString
	fromEnv   bool
}

func (id identity) key() string {
	var b strings.Builder
	w := func(o OptString) {
		if o.Set {
			b.WriteString(strconv.Quote(o.Value))
		} else {
			b.WriteString("-")
		}
		b.WriteByte('|')
	}
	w(id.tls.caFile)
	w(id.tls.clientCert)
	w(id.tls.clientKey)
	w(id.tls.ciphers)
	w(id.proxy)
	w(id.iface)
	b.WriteString(strconv.Itoa(id.tls.verifyPeer) + "|" + strconv.Itoa(id.tls.verifyHost) + "|" +
		strconv.Itoa(int(id.tls.minV)) + "|" + strconv.Itoa(int(id.tls.maxV)) + "|" +
		strconv.Itoa(id.proxyPort) + "|" + strconv.FormatBool(id.fromEnv) + "|" + strconv.FormatBool(id.tls.offerHTTP2))
	if c := id.tls.clientPair; c != nil {
		b.WriteString("|cert:" + c.Identity)
	}
	if id.tlsErr != nil {
		b.WriteString("|tlserr")
	}
	return b.String()
}

// transport makes connections for one identity.
type transport struct {
	// keyPrefix is a digest of the identity. It is part of the key of every connection
	// the transport makes, so that a pool shared by several identities (a background
	// pool) never hands a connection made with one client certificate, proxy or
	// verification setting to a request with another.
	keyPrefix string

	tls       *tlsSettings
	setoptErr *curlError // returned before anything is sent (43)

	proxy    *proxySpec // nil: direct (unless env)
	proxyErr *curlError
	noProxy  bool // CURLOPT_PROXY "" given: no proxy, not even from the environment
	env      *envProxy

	iface *ifaceSpec
}

// proxySpec is a parsed proxy.
type proxySpec struct {
	scheme   string // "http" or "https"
	host     string // for dialling
	port     int
	user     string
	pass     string
	hasCreds bool
}

func (p *proxySpec) addr() string { return net.JoinHostPort(p.host, strconv.Itoa(p.port)) }

// parseProxy interprets CURLOPT_PROXY plus CURLOPT_PROXYPORT like curl 7.88: a missing
// scheme means http://, a port in the string wins over the port option, and the default
// port is 1080 (443 for an https proxy).
func parseProxy(s string, port int) (*proxySpec, *curlError) {
	p := &proxySpec{scheme: "http"}
	rest := s
	if i := strings.Index(s, "://"); i >= 0 {
		p.scheme = strings.ToLower(s[:i])
		rest = s[i+3:]
	}
	switch p.scheme {
	case "http", "https":
	default:
		return nil, newCurlError(curlCantConnect, "unsupported proxy scheme "+strconv.Quote(p.scheme))
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user, pass, _ := strings.Cut(rest[:at], ":")
		p.user, _ = percentDecode(user)
		p.pass, _ = percentDecode(pass)
		p.hasCreds = true
		rest = rest[at+1:]
	}
	host, portStr := rest, ""
	if strings.HasPrefix(rest, "[") {
		if end := strings.IndexByte(rest, ']'); end > 0 {
			host = rest[1:end]
			portStr = strings.TrimPrefix(rest[end+1:], ":")
		}
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		host, portStr = rest[:i], rest[i+1:]
	}
	if host == "" {
		return nil, newCurlError(curlCantResolveProxy, "no proxy host")
	}
	p.host = host
	switch {
	case portStr != "":
		n, err := strconv.Atoi(portStr)
		if err != nil || n < 0 || n > 0xffff {
			return nil, newCurlError(curlURLMalformat, "bad proxy port")
		}
		p.port = n
	case port > 0:
		p.port = port
	case p.scheme == "https":
		p.port = 443
	default:
		p.port = 1080
	}
	return p, nil
}

// envProxy is libcurl's environment proxy lookup (only when Config.ProxyFromEnv): lowercase
// http_proxy for http (curl ignores HTTP_PROXY), https_proxy/HTTPS_PROXY for https, then
// all_proxy/ALL_PROXY; no_proxy/NO_PROXY exempt hosts.
type envProxy struct {
	http, https, all string
	noProxy          []string
}

func loadEnvProxy() *envProxy {
	get := func(names ...string) string {
		for _, n := range names {
			if v := os.Getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	e := &envProxy{
		http:  get("http_proxy"),
		https: get("https_proxy", "HTTPS_PROXY"),
		all:   get("all_proxy", "ALL_PROXY"),
	}
	for _, h := range strings.Split(get("no_proxy", "NO_PROXY"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			e.noProxy = append(e.noProxy, strings.ToLower(h))
		}
	}
	if e.http == "" && e.https == "" && e.all == "" {
		return nil
	}
	return e
}

func (e *envProxy) lookup(u *reqURL) string {
	host := strings.ToLower(u.hostname)
	for _, n := range e.noProxy {
		if n == "*" || host == strings.TrimPrefix(n, ".") || strings.HasSuffix(host, "."+strings.TrimPrefix(n, ".")) {
			return ""
		}
	}
	p := e.http
	if u.scheme == "https" {
		p = e.https
	}
	if p == "" {
		p = e.all
	}
	return p
}

// ifaceSpec is CURLOPT_INTERFACE resolved to local addresses.
type ifaceSpec struct {
	v4, v6 net.IP
	err    *curlError
}

// resolveInterface accepts "if!name", "host!name", an interface name, or an IP address.
func resolveInterface(s string) *ifaceSpec {
	fail := &ifaceSpec{err: newCurlError(curlInterfaceFailed, "couldn't bind to interface "+strconv.Quote(s))}
	name, onlyIf, onlyHost := s, false, false
	if v, ok := strings.CutPrefix(s, "if!"); ok {
		name, onlyIf = v, true
	} else if v, ok := strings.CutPrefix(s, "host!"); ok {
		name, onlyHost = v, true
	}
	spec := &ifaceSpec{}
	add := func(ip net.IP) {
		if ip4 := ip.To4(); ip4 != nil {
			if spec.v4 == nil {
				spec.v4 = ip4
			}
		} else if spec.v6 == nil && !ip.IsLinkLocalUnicast() {
			spec.v6 = ip
		}
	}
	if !onlyHost {
		if ifi, err := net.InterfaceByName(name); err == nil {
			addrs, _ := ifi.Addrs()
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok {
					add(ipn.IP)
				}
			}
			if spec.v4 == nil && spec.v6 == nil {
				return fail
			}
			return spec
		}
		if onlyIf {
			return fail
		}
	}
	if ip := net.ParseIP(name); ip != nil {
		add(ip)
		return spec
	}
	if ips, err := net.LookupIP(name); err == nil {
		for _, ip := range ips {
			add(ip)
		}
		if spec.v4 != nil || spec.v6 != nil {
			return spec
		}
	}
	return fail
}

// newTransport builds the transport of one identity.
func newTransport(id identity, cas *caCache) *transport {
	sum := sha256.Sum256([]byte(id.key()))
	t := &transport{setoptErr: id.tlsErr, tls: buildTLS(id.tls, cas), keyPrefix: hex.EncodeToString(sum[:8]) + "|"}
	if id.proxy.Set {
		if id.proxy.Value == "" {
			t.noProxy = true
		} else {
			t.proxy, t.proxyErr = parseProxy(id.proxy.Value, id.proxyPort)
		}
	}
	if !id.proxy.Set && id.fromEnv {
		t.env = loadEnvProxy()
	}
	if id.iface.Set {
		t.iface = resolveInterface(id.iface.Value)
	}
	return t
}

// pconn is one client connection: HTTP/1.1 over conn and br, or HTTP/2 through h2 when
// the TLS handshake selected "h2" (br is then nil).
type pconn struct {
	conn     net.Conn
	br       *bufio.Reader
	h2       *http.ClientConn
	key      poolKey // identity, origin (and proxy) it talks to
	viaProxy bool    // plain-http request through a proxy: absolute-form targets
	proxy    *proxySpec
	reused   bool    // taken from a pool: a failure before any response byte is retried
	fd       *fdConn // the TCP connection under conn (and TLS); nil if not TCP

	connected  time.Time // TCP connect done (for timings)
	handshaken time.Time // TLS handshake with the origin done; zero without TLS
}

func (pc *pconn) close() { _ = pc.conn.Close() }

// readerSize is the buffer of a connection's reader: a response head and small bodies
// fit; a body of known length bypasses it (readInto), so a larger one would only cost
// memory per kept connection (256 connections: 1 MiB instead of 4 MiB of live heap, which
// the garbage collector's pace is proportional to).
const readerSize = 4 << 10

// bufio readers are pooled: a connection needs one only while it lives.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readerSize) }}

func newPconn(c net.Conn, key poolKey) *pconn {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(c)
	return &pconn{conn: c, br: br, key: key}
}

// release closes the connection (ending the HTTP/2 client's reader) and returns its reader
// to the pool.
func (pc *pconn) release() {
	if pc.h2 != nil {
		_ = pc.h2.Close()
	}
	pc.close()
	if pc.br != nil {
		pc.br.Reset(nil)
		readerPool.Put(pc.br)
		pc.br = nil
	}
}

// alive reports whether an idle pooled connection can be reused: like curl's dead-connection
// check, a readable idle socket (EOF, or unexpected data) means it is not usable.
func (pc *pconn) alive() bool {
	if pc.h2 != nil {
		// The HTTP/2 client reads the socket all the time and knows its state.
		return pc.h2Usable()
	}
	if pc.br.Buffered() > 0 {
		return false
	}
	if pc.fd != nil && !pc.fd.direct {
		// In poller mode a deadline in the past fails the read before any read(2) (Go
		// checks it first), so the probe below would learn nothing and only cost two
		// deadline changes and an error. A connection that died while idle fails before
		// any response byte and the request is retried on a new one (roundTrip).
		return true
	}
	if pc.conn == net.Conn(pc.fd) {
		// Plain TCP: poll, as curl does; any byte or an EOF makes it unusable.
		return !pc.fd.readableNow()
	}
	// TLS: a readable socket may hold a record to consume (a TLS 1.3 session ticket), so
	// the probe reads through the TLS layer until it would wait.
	_ = pc.conn.SetReadDeadline(time.Now().Add(-time.Second))
	_, err := pc.br.Peek(1)
	_ = pc.conn.SetReadDeadline(time.Time{})
	return err != nil && isTimeout(err)
}

// proxyFor returns the proxy to use for u (nil for direct).
func (t *transport) proxyFor(u *reqURL) (*proxySpec, *curlError) {
	if t.proxyErr != nil {
		return nil, t.proxyErr
	}
	if t.proxy != nil || t.noProxy || t.env == nil {
		return t.proxy, nil
	}
	s := t.env.lookup(u)
	if s == "" {
		return nil, nil
	}
	return parseProxy(s, 0)
}

// poolKey says which requests a kept connection can carry: those of one transport
// identity to one origin, through one proxy. Two strings rather than their concatenation:
// finding a connection for a request then compares strings it already has, and builds none.
type poolKey struct {
	identity string // transport.keyPrefix
	route    string // connKey
}

// connKey is the key of the connections of this transport that can carry requests for u.
func (t *transport) connKey(u *reqURL, p *proxySpec) poolKey {
	return poolKey{t.keyPrefix, connKey(u, p)}
}

// connKey identifies the connections that can carry requests for u.
func connKey(u *reqURL, p *proxySpec) string {
	if p == nil {
		return u.originKey()
	}
	if u.scheme == "http" {
		return "proxy:" + p.scheme + "://" + p.addr()
	}
	return "proxy:" + p.scheme + "://" + p.addr() + "|" + u.originKey()
}

// defaultConnectTimeout is libcurl's connect timeout when none is set.
const defaultConnectTimeout = 300 * time.Second

// dial makes a new connection for u, honouring the total deadline (zero: none), the
// connect timeout (zero: libcurl's 300 s) and ctx, which interrupts it.
// direct asks for direct I/O on the new connection (directconn.go): synchronous requests.
func (t *transport) dial(ctx context.Context, u *reqURL, p *proxySpec, deadline time.Time, connectTimeout time.Duration, ua OptString, direct bool) (*pconn, *curlError) {
	if connectTimeout <= 0 {
		connectTimeout = defaultConnectTimeout
	}
	connectBy := time.Now().Add(connectTimeout)
	if !deadline.IsZero() && deadline.Before(connectBy) {
		connectBy = deadline
	}
	// No TCP keep-alive probes: libcurl's default (CURLOPT_TCP_KEEPALIVE 0).
	d := net.Dialer{Deadline: connectBy, KeepAlive: -1}
	if direct {
		d.Control = blockingConnect(connectBy) // a host name: the dialer resolves it
	}
	if t.iface != nil {
		if t.iface.err != nil {
			return nil, t.iface.err
		}
		ip := t.iface.v4
		target := u.hostname
		if p != nil {
			target = p.host
		}
		if tip := net.ParseIP(target); (tip != nil && tip.To4() == nil) || ip == nil {
			ip = t.iface.v6
		}
		if ip == nil {
			return nil, t.iface.err
		}
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	addr := u.dialAddr()
	if p != nil {
		addr = p.addr()
	}
	var raw net.Conn
	var fc *fdConn
	if ap, err := netip.ParseAddrPort(addr); err == nil && direct && t.iface == nil && ap.Addr().Zone() == "" {
		// An address and nothing to bind: the socket never enters Go's poller (see
		// dialDetached), which would wake a thread for its first event.
		if fc, err = dialDetached(ap, connectBy); err != nil {
			return nil, connectError(err, addr, p != nil)
		}
		raw = fc
	} else {
		dialled, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, connectError(err, addr, p != nil)
		}
		raw = dialled
		if tc, ok := dialled.(*net.TCPConn); ok {
			fc = newFDConn(tc, direct)
			raw = fc
			if direct {
				fc.setNonblock() // blockingConnect made it blocking for connect(2) alone
			}
		}
	}
	// The TCP connect is done; what follows (proxy, TLS) is bounded by the connect
	// timeout too, as in curl, and by the total deadline.
	_ = raw.SetDeadline(connectBy)
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)); close(interrupted) })
	defer func() {
		if !stop() {
			<-interrupted // a started interrupt must not reach a connection once it is pooled
		}
	}()
	pc := newPconn(raw, t.connKey(u, p))
	pc.fd = fc
	pc.connected = time.Now()
	pc.proxy = p
	if p != nil && p.scheme == "https" {
		tc := tls.Client(raw, &tls.Config{ServerName: p.host, NextProtos: []string{"http/1.1"}})
		if err := tc.Handshake(); err != nil {
			pc.release()
			return nil, newCurlError(classify(err, phaseTLS, true), "proxy TLS handshake: "+errText(err))
		}
		pc.conn = tc
		pc.br.Reset(tc)
	}
	if p != nil && u.scheme == "http" {
		pc.viaProxy = true
		_ = pc.conn.SetDeadline(deadline)
		return pc, nil
	}
	if p != nil {
		if cerr := pc.connectTunnel(u, p, ua); cerr != nil {
			pc.release()
			return nil, cerr
		}
	}
	if u.scheme == "https" {
		if cerr := t.handshake(pc, u); cerr != nil {
			pc.release()
			return nil, cerr
		}
		pc.handshaken = time.Now()
		if cerr := pc.startH2(u.dialAddr(), deadline); cerr != nil {
			pc.release()
			return nil, cerr
		}
	}
	_ = pc.conn.SetDeadline(deadline)
	return pc, nil
}

// connectError is the curl error of a failed TCP connect to addr (a proxy's with viaProxy).
func connectError(err error, addr string, viaProxy bool) *curlError {
	return newCurlError(classify(err, phaseConnect, viaProxy), "failed to connect to "+addr+": "+errText(err))
}

// handshake runs TLS over pc like libcurl+OpenSSL: context setup failures surface only now
// (after TCP connect), the chain is verified inside the handshake, the host name after it.
func (t *transport) handshake(pc *pconn, u *reqURL) *curlError {
	s := t.tls
	if s.deferredErr != nil {
		return s.deferredErr
	}
	host := u.hostname
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	tc := tls.Client(pc.conn, s.forHost(host))
	if err := tc.Handshake(); err != nil {
		return newCurlError(classify(err, phaseTLS, false), "TLS handshake with "+u.hostPort()+": "+errText(err))
	}
	if s.verifyHost {
		if err := verifyHostname(tc.ConnectionState(), host); err != nil {
			return newCurlError(curlPeerFailedVerify, errText(err))
		}
	}
	pc.conn = tc
	pc.br.Reset(tc)
	return nil
}

// connectTunnel opens a CONNECT tunnel through the proxy, with curl 7.88's headers.
func (pc *pconn) connectTunnel(u *reqURL, p *proxySpec, ua OptString) *curlError {
	hp := u.hostname
	if strings.IndexByte(hp, ':') >= 0 {
		hp = "[" + hp + "]"
	}
	hp += ":" + strconv.Itoa(u.port)
	var b []byte
	b = append(b, "CONNECT "+hp+" HTTP/1.1\r\nHost: "+hp+"\r\n"...)
	if p.hasCreds {
		b = append(b, "Proxy-Authorization: "+basicAuth(p.user, p.pass)+"\r\n"...)
	}
	if ua.Set && ua.Value != "" {
		b = append(b, "User-Agent: "+ua.Value+"\r\n"...)
	}
	b = append(b, "Proxy-Connection: Keep-Alive\r\n\r\n"...)
	if _, err := pc.conn.Write(b); err != nil {
		return newCurlError(classify(err, phaseSend, true), "CONNECT: "+errText(err))
	}
	var hc headerCounter
	resp, cerr := pc.readHead(&hc, false)
	if cerr != nil {
		if cerr.code == curlGotNothing {
			cerr = newCurlError(curlRecvError, "proxy CONNECT aborted")
		}
		return cerr
	}
	if resp.status/100 != 2 {
		return newCurlError(curlRecvError, "CONNECT tunnel failed, response "+strconv.Itoa(resp.status))
	}
	return nil
}

// connPool holds the kept connections of one named connection (keep_connections). libcurl
// keeps one handle per process and connection; hc serves many threads per process, so a
// few idle connections may be kept, most recently used first.
type connPool struct {
	mu      sync.Mutex
	idle    []*pconn
	maxIdle int // idle connections kept at most; 0: maxIdlePerConnection
}

const maxIdlePerConnection = 64

func (p *connPool) get(key poolKey) *pconn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.idle) - 1; i >= 0; i-- {
		pc := p.idle[i]
		if pc.key != key {
			continue
		}
		p.idle = append(p.idle[:i], p.idle[i+1:]...)
		if !pc.alive() {
			pc.release()
			continue
		}
		pc.reused = true
		return pc
	}
	return nil
}

func (p *connPool) put(pc *pconn) {
	_ = pc.conn.SetDeadline(time.Time{})
	limit := p.maxIdle
	if limit == 0 {
		limit = maxIdlePerConnection
	}
	p.mu.Lock()
	if len(p.idle) >= limit {
		old := p.idle[0]
		p.idle = append(p.idle[:0], p.idle[1:]...)
		p.mu.Unlock()
		old.release()
		p.mu.Lock()
	}
	p.idle = append(p.idle, pc)
	p.mu.Unlock()
}

func (p *connPool) closeAll() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, pc := range idle {
		pc.release()
	}
}

// errText is err's text without Go's "dial tcp" noise where it adds nothing.
func errText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// This file owns the TLS settings of a request, built once per transport identity: the CA
// bundle (cacert, else the system roots), the PEM client certificate and key, verify_peer
// and verify_host with libcurl+OpenSSL's split (chain checked inside the handshake, the
// host name checked after it), tlsversion as CURLOPT_SSLVERSION, and OpenSSL cipher
// strings translated to Go's cipher suites.

package engine

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"sync"
)

// CURL_SSLVERSION_* values (curl 7.88).
const (
	sslVersionDefault = 0
	sslVersionTLSv1   = 1
	sslVersionSSLv2   = 2
	sslVersionSSLv3   = 3
	sslVersionTLSv1_0 = 4
	sslVersionTLSv1_1 = 5
	sslVersionTLSv1_2 = 6
	sslVersionTLSv1_3 = 7
)

// tlsSettings is the TLS part of a transport identity.
type tlsSettings struct {
	verifyPeer bool
	verifyHost bool
	config     *tls.Config // shared base; per-host copies live in byHost

	// deferredErr is a setup failure that libcurl reports only after the TCP connection
	// is up (OpenSSL context setup happens in the connect phase): 77 for the CA file, 58
	// for the client certificate, 59 for the cipher list.
	deferredErr *curlError

	byHost sync.Map // host -> *tls.Config with ServerName set
}

// tlsVersionRange maps CURLOPT_SSLVERSION (with its CURL_SSLVERSION_MAX_* high bits) to Go
// versions. It fails with 43 where curl 7.88's setopt does: SSLv2/SSLv3 and anything out
// of range.
func tlsVersionRange(v int) (minV, maxV uint16, err *curlError) {
	lo, hi := v&0xffff, v>>16
	if v < 0 || lo == sslVersionSSLv2 || lo == sslVersionSSLv3 || lo >= SSLVersionLast || hi >= SSLVersionLast {
		return 0, 0, newCurlError(curlBadFunctionArg, "unsupported tlsversion")
	}
	switch lo {
	case sslVersionTLSv1, sslVersionTLSv1_0:
		minV = tls.VersionTLS10
	case sslVersionTLSv1_1:
		minV = tls.VersionTLS11
	case sslVersionTLSv1_2:
		minV = tls.VersionTLS12
	case sslVersionTLSv1_3:
		minV = tls.VersionTLS13
	}
	switch hi {
	case sslVersionTLSv1_0:
		maxV = tls.VersionTLS10
	case sslVersionTLSv1_1:
		maxV = tls.VersionTLS11
	case sslVersionTLSv1_2:
		maxV = tls.VersionTLS12
	case sslVersionTLSv1_3:
		maxV = tls.VersionTLS13
	}
	return minV, maxV, nil
}

// caCache shares parsed CA files between the transports of one Engine.
type caCache struct {
	mu    sync.Mutex
	pools map[string]caEntry
}

type caEntry struct {
	pool *x509.CertPool
	err  error
}

func (c *caCache) load(path string) (*x509.CertPool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.pools[path]; ok {
		return e.pool, e.err
	}
	var e caEntry
	data, err := os.ReadFile(path)
	if err != nil {
		e.err = err
	} else {
		e.pool = x509.NewCertPool()
		if !e.pool.AppendCertsFromPEM(data) {
			e.pool, e.err = nil, errors.New("no certificates found in "+path)
		}
	}
	if c.pools == nil {
		c.pools = make(map[string]caEntry)
	}
	c.pools[path] = e
	return e.pool, e.err
}

// tlsParams is the TLS part of an identity, as raw settings.
type tlsParams struct {
	caFile     OptString
	clientCert OptString
	clientKey  OptString
	ciphers    OptString
	verifyPeer int
	verifyHost int
	minV, maxV uint16
	offerHTTP2 bool
	clientPair *ClientCert // an in-memory certificate (Halon's tls_client_cert); nil: none
}

// buildTLS builds the settings for one identity. Failures that libcurl would report at
// connect time are stored in deferredErr rather than returned.
func buildTLS(p tlsParams, cas *caCache) *tlsSettings {
	s := &tlsSettings{verifyPeer: p.verifyPeer != 0, verifyHost: p.verifyHost != 0}
	cfg := &tls.Config{
		// Verification is done by hc itself (verifyChain during the handshake, the host
		// name after it), because Go's combined check cannot express verify_peer=0 with
		// verify_host=2 or the other way round.
		InsecureSkipVerify: true,
		MinVersion:         p.minV,
		MaxVersion:         p.maxV,
		NextProtos:         []string{"http/1.1"},
		// libcurl keeps a TLS session cache per handle; Go's is per config.
		ClientSessionCache: tls.NewLRUClientSessionCache(64),
	}
	if p.offerHTTP2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	var roots *x509.CertPool
	if p.caFile.Set {
		pool, err := cas.load(p.caFile.Value)
		// OpenSSL ignores an unusable CA file when the peer is not verified.
		if err != nil && s.verifyPeer {
			s.deferredErr = newCurlError(curlSSLCACertBadFile, "error setting certificate verify locations: "+err.Error())
		}
		roots = pool
	}
	if s.verifyPeer {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, roots)
		}
	}
	// The client certificate is used only when both cert and key are set.
	if p.clientCert.Set && p.clientKey.Set && s.deferredErr == nil {
		cert, err := tls.LoadX509KeyPair(p.clientCert.Value, p.clientKey.Value)
		if err != nil {
			s.deferredErr = newCurlError(curlSSLCertProblem, "unable to use client certificate: "+err.Error())
		} else {
			cfg.Certificates = []tls.Certificate{cert}
		}
	}
	if c := p.clientPair; c != nil && s.deferredErr == nil {
		if c.SetupError != 0 {
			s.deferredErr = newCurlError(c.SetupError, "client certificate and private key do not match")
		} else {
			cfg.Certificates = []tls.Certificate{c.Certificate}
		}
	}
	if p.ciphers.Set && s.deferredErr == nil {
		suites := parseOpenSSLCiphers(p.ciphers.Value)
		if len(suites) == 0 {
			s.deferredErr = newCurlError(curlSSLCipher, "failed setting cipher list: "+p.ciphers.Value)
		} else {
			cfg.CipherSuites = suites
		}
	}
	s.config = cfg
	return s
}

// forHost returns the config for one server name (SNI is sent for names, not for IPs).
func (s *tlsSettings) forHost(host string) *tls.Config {
	if c, ok := s.byHost.Load(host); ok {
		return c.(*tls.Config)
	}
	c := s.config.Clone()
	c.ServerName = host
	actual, _ := s.byHost.LoadOrStore(host, c)
	return actual.(*tls.Config)
}

// verifyChain checks the peer chain against roots (nil: the system roots), without any
// host name: OpenSSL's in-handshake verification, which fails with an alert.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return &certVerifyError{errors.New("no peer certificate")}
	}
	opts := x509.VerifyOptions{Roots: roots}
	if len(certs) > 1 {
		opts.Intermediates = x509.NewCertPool()
		for _, c := range certs[1:] {
			opts.Intermediates.AddCert(c)
		}
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return &certVerifyError{err}
	}
	return nil
}

// verifyHostname is libcurl's post-handshake host check (verify_host != 0).
func verifyHostname(cs tls.ConnectionState, host string) error {
	if len(cs.PeerCertificates) == 0 {
		return &certVerifyError{errors.New("no peer certificate")}
	}
	if err := cs.PeerCertificates[0].VerifyHostname(host); err != nil {
		return &certVerifyError{err}
	}
	return nil
}

// cipher attributes used by OpenSSL's cipher-string keywords.
const (
	cECDHE = 1 << iota
	cKRSA
	cARSA
	cAECDSA
	cAESGCM
	cAES128
	cAES256
	cCHACHA
	c3DES
	cRC4
	cSHA1
	cSHA256
	cSHA384
)

type opensslCipher struct {
	name  string
	id    uint16
	attrs int
}

// opensslCiphers are the OpenSSL names of the TLS <= 1.2 suites Go implements.
var opensslCiphers = []opensslCipher{
	{"ECDHE-ECDSA-AES128-GCM-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, cECDHE | cAECDSA | cAESGCM | cAES128 | cSHA256},
	{"ECDHE-RSA-AES128-GCM-SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, cECDHE | cARSA | cAESGCM | cAES128 | cSHA256},
	{"ECDHE-ECDSA-AES256-GCM-SHA384", tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, cECDHE | cAECDSA | cAESGCM | cAES256 | cSHA384},
	{"ECDHE-RSA-AES256-GCM-SHA384", tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, cECDHE | cARSA | cAESGCM | cAES256 | cSHA384},
	{"ECDHE-ECDSA-CHACHA20-POLY1305", tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, cECDHE | cAECDSA | cCHACHA | cSHA256},
	{"ECDHE-RSA-CHACHA20-POLY1305", tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, cECDHE | cARSA | cCHACHA | cSHA256},
	{"ECDHE-ECDSA-AES128-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, cECDHE | cAECDSA | cAES128 | cSHA256},
	{"ECDHE-RSA-AES128-SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, cECDHE | cARSA | cAES128 | cSHA256},
	{"ECDHE-ECDSA-AES128-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, cECDHE | cAECDSA | cAES128 | cSHA1},
	{"ECDHE-RSA-AES128-SHA", tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, cECDHE | cARSA | cAES128 | cSHA1},
	{"ECDHE-ECDSA-AES256-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, cECDHE | cAECDSA | cAES256 | cSHA1},
	{"ECDHE-RSA-AES256-SHA", tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, cECDHE | cARSA | cAES256 | cSHA1},
	{"AES128-GCM-SHA256", tls.TLS_RSA_WITH_AES_128_GCM_SHA256, cKRSA | cARSA | cAESGCM | cAES128 | cSHA256},
	{"AES256-GCM-SHA384", tls.TLS_RSA_WITH_AES_256_GCM_SHA384, cKRSA | cARSA | cAESGCM | cAES256 | cSHA384},
	{"AES128-SHA256", tls.TLS_RSA_WITH_AES_128_CBC_SHA256, cKRSA | cARSA | cAES128 | cSHA256},
	{"AES128-SHA", tls.TLS_RSA_WITH_AES_128_CBC_SHA, cKRSA | cARSA | cAES128 | cSHA1},
	{"AES256-SHA", tls.TLS_RSA_WITH_AES_256_CBC_SHA, cKRSA | cARSA | cAES256 | cSHA1},
	{"ECDHE-RSA-DES-CBC3-SHA", tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, cECDHE | cARSA | c3DES | cSHA1},
	{"DES-CBC3-SHA", tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, cKRSA | cARSA | c3DES | cSHA1},
	{"ECDHE-ECDSA-RC4-SHA", tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA, cECDHE | cAECDSA | cRC4 | cSHA1},
	{"ECDHE-RSA-RC4-SHA", tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, cECDHE | cARSA | cRC4 | cSHA1},
	{"RC4-SHA", tls.TLS_RSA_WITH_RC4_128_SHA, cKRSA | cARSA | cRC4 | cSHA1},
}

// opensslKeywords maps OpenSSL cipher-string keywords to attribute masks. A keyword
// selects the suites having any of the mask's bits; the special mask -1 selects the
// "default" set (everything but RC4 and 3DES).
var opensslKeywords = map[string]int{
	"DEFAULT": -1, "ALL": -1, "HIGH": -1,
	"ECDHE": cECDHE, "EECDH": cECDHE, "kEECDH": cECDHE, "kECDHE": cECDHE, "ECDH": cECDHE,
	"kRSA": cKRSA, "RSA": cKRSA | cARSA, "aRSA": cARSA,
	"aECDSA": cAECDSA, "ECDSA": cAECDSA,
	"AESGCM": cAESGCM, "AES": cAES128 | cAES256, "AES128": cAES128, "AES256": cAES256,
	"CHACHA20": cCHACHA, "3DES": c3DES, "RC4": cRC4, "MEDIUM": cRC4,
	"SHA1": cSHA1, "SHA": cSHA1, "SHA256": cSHA256, "SHA384": cSHA384,
}

// parseOpenSSLCiphers translates an OpenSSL cipher list (separated by ':', ',' or spaces;
// "A+B" intersections; "!X"/"-X" removals; "+X" reordering, ignored) to Go suite IDs. An
// empty result means OpenSSL would have rejected the list (59).
func parseOpenSSLCiphers(list string) []uint16 {
	selected := make([]bool, len(opensslCiphers))
	banned := make([]bool, len(opensslCiphers))
	for _, tok := range strings.FieldsFunc(list, func(r rune) bool { return r == ':' || r == ',' || r == ' ' || r == '\t' }) {
		if tok == "" || tok[0] == '@' || tok[0] == '+' {
			continue
		}
		mark := selected
		switch tok[0] {
		case '!':
			mark, tok = banned, tok[1:]
		case '-':
			tok = tok[1:]
			for i := range opensslCiphers {
				if cipherMatches(opensslCiphers[i], tok) {
					selected[i] = false
				}
			}
			continue
		}
		for i := range opensslCiphers {
			if cipherMatches(opensslCiphers[i], tok) {
				mark[i] = true
			}
		}
	}
	var out []uint16
	for i, c := range opensslCiphers {
		if selected[i] && !banned[i] {
			out = append(out, c.id)
		}
	}
	return out
}

// cipherMatches reports whether suite c is selected by tok ("NAME" or "KW+KW+...").
func cipherMatches(c opensslCipher, tok string) bool {
	if tok == c.name {
		return true
	}
	for _, part := range strings.Split(tok, "+") {
		mask, ok := opensslKeywords[part]
		if !ok {
			if part == c.name {
				continue
			}
			return false
		}
		if mask == -1 {
			if c.attrs&(cRC4|c3DES) != 0 {
				return false
			}
			continue
		}
		if c.attrs&mask == 0 {
			return false
		}
	}
	return true
}

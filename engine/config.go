// Package engine is hc's HTTP client engine: pure Go, no cgo, testable on its own.
//
// It reimplements the behaviour of Kamailio's http_client module (5.6.3, on libcurl 7.88.1)
// and the request side of Halon's http-background plugin. The cgo layer in the repository
// root only converts arguments and delegates here.
//
// This file owns the configuration model: the module parameters ("modparams") with their
// defaults, and the named connections built from them. Parsing lives in settings.go
// (the hc_init text), httpcon.go (the httpcon grammar) and inifile.go (config_file).
package engine

// Kamailio's compiled-in defaults (http_client.c, 5.6.3).
const (
	DefaultUserAgent         = "kamailio (5.6.3 (x86_64/linux))"
	DefaultConnectionTimeout = 4 // seconds, a total transfer timeout (CURLOPT_TIMEOUT)
	DefaultAuthMethod        = AuthBasic | AuthDigest
	DefaultVerifyPeer        = 1
	DefaultVerifyHost        = 2
	DefaultQueryResult       = 1
	DefaultGoMaxProcs        = 2

	// DefaultMaxBodySize bounds the body kept for one response (hc's max_body_size). A
	// peer sending an endless body at loopback speed would otherwise grow the host
	// process by a gigabyte a second until the timeout; Kamailio's 8 MB pkg pool ends the
	// same transfer with 23 much earlier.
	DefaultMaxBodySize = 64 << 20

	// SSLVersionLast is CURL_SSLVERSION_LAST on curl 7.88: tlsversion values at or above it
	// are reset to 0 by Kamailio.
	SSLVersionLast = 8
)

// CURLAUTH_* bits, as used by the authmethod modparam.
const (
	AuthBasic     = 1
	AuthDigest    = 2
	AuthNegotiate = 4
	AuthNTLM      = 8
	AuthDigestIE  = 16
	AuthNTLMWB    = 32
	AuthBearer    = 64
	AuthAWSSigV4  = 128
	AuthOnly      = 1 << 31
)

// OptString is a string setting that distinguishes "not set" (libcurl's NULL) from the empty
// string: for Kamailio they differ (an empty useragent suppresses the header, an empty
// cipher list makes TLS fail, an unset one uses the default).
type OptString struct {
	Value string
	Set   bool
}

// Some returns a set OptString.
func Some(s string) OptString { return OptString{Value: s, Set: true} }

// Defaults holds the modparam values that a connection copies when it is created.
// An httpcon connection copies them as they are at its line; config-file connections copy
// the final values (Kamailio's order rule).
type Defaults struct {
	ClientCert        OptString
	ClientKey         OptString
	CipherSuites      OptString
	UserAgent         OptString
	HTTPProxy         OptString
	HTTPProxyPort     int
	MaxDataSize       int
	ConnectionTimeout int // seconds; 0 means no timeout (5.6.3)
	HTTPRedirect      int
	VerifyPeer        int
	VerifyHost        int
	TLSVersion        int
	AuthMethod        int
	KeepConnections   int
}

// DefaultDefaults returns the modparam defaults of Kamailio 5.6.3.
func DefaultDefaults() Defaults {
	return Defaults{
		UserAgent:         Some(DefaultUserAgent),
		ConnectionTimeout: DefaultConnectionTimeout,
		VerifyPeer:        DefaultVerifyPeer,
		VerifyHost:        DefaultVerifyHost,
		AuthMethod:        DefaultAuthMethod,
	}
}

// Connection is one named connection (an httpcon line or a config-file section) with every
// effective parameter.
type Connection struct {
	Name   string
	Scheme string // as written, not validated (ftp, HTTP, ...)
	// URL is the base after "scheme://", kept verbatim: host[:port][/path][?query].
	// For httpcon the userinfo is removed; for config-file connections it is kept.
	URL      string
	Username OptString // raw bytes, never percent-decoded
	Password OptString
	Failover string // name of another connection, resolved at request time; "" = none

	UserAgent     OptString
	ClientCert    OptString
	ClientKey     OptString
	CipherSuites  OptString
	HTTPProxy     OptString // used only when HTTPProxyPort > 0
	HTTPProxyPort int

	Timeout         int // seconds, total; 0 = none; negative is rejected at request time (43)
	MaxDataSize     int // 0 = no limit
	HTTPRedirect    int
	VerifyPeer      int
	VerifyHost      int // 0 = off, anything else acts as 2
	TLSVersion      int // CURL_SSLVERSION_*; 0 = not set
	AuthMethod      int
	KeepConnections int

	FromFile bool // defined in config_file (affects listing order and userinfo handling)
}

// PoolConfig defines one background pool (Halon's http-background pools). The pool model
// itself is the background engine's; the settings reserve its syntax.
type PoolConfig struct {
	ID       string `json:"id"`
	MaxTotal int    `json:"max_total"` // connections across the pool; 0 = unlimited
	MaxHost  int    `json:"max_host"`  // connections per host:port; 0 = unlimited
	Queue    int    `json:"queue"`     // waiting requests before HC_E_QUEUE_FULL; 0 = default
}

// Config is the whole configuration behind hc_init, after the settings text and the
// config_file have been read.
type Config struct {
	// Final modparam values (what queries and config-file connections see).
	Defaults Defaults

	CACert           OptString // global only: every request
	NetInterface     OptString // global only: every request
	QueryResult      int
	QueryMaxDataSize int
	ConfigFile       OptString

	// Connections in definition order: httpcon lines in order, then config-file sections
	// in file order. Listing order (Kamailio's LIFO) is derived from this.
	Connections []*Connection
	// HTTPConCount is the number of httpcon connections (Kamailio's "connections" counter
	// counts only these).
	HTTPConCount int

	// Library settings, not Kamailio modparams.
	CrashLog     string
	GoMaxProcs   int   // 0 = leave the runtime's value
	MemoryLimit  int64 // bytes; 0 = no limit
	MaxBodySize  int64 // bytes kept per response, beyond which a transfer fails with 23; 0 = no limit
	ProxyFromEnv bool  // honour http_proxy/https_proxy/no_proxy (libcurl does; hc does not by default)
	// NoBackgroundLoop (background_loop = 0) runs every background request on a
	// goroutine; by default plain-HTTP ones run on the event loop (bgloop.go).
	NoBackgroundLoop bool
	Pools            []PoolConfig
	Warnings         []string // non-fatal findings (Kamailio logs these at WARN/ERR and goes on)
}

// Lookup returns the connection with exactly this name (case-sensitive), or nil.
func (c *Config) Lookup(name string) *Connection {
	for _, cc := range c.Connections {
		if cc.Name == name {
			return cc
		}
	}
	return nil
}

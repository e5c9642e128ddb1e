// This file owns the connection listing behind hc_listcon: Kamailio's httpclient.listcon
// RPC (curlrpc.c:curl_rpc_listcon) as JSON, with every effective parameter and without
// the RPC's credential bug (it over-reads or prints the start of the password; here a set
// password is always "***"). Spec: kamailio_http_client.md §8.

package engine

import (
	"bytes"
	"encoding/json"
	"strings"
)

// listconEntry is one connection in the listing. Pointers are the strings that may be
// unset (null); an empty string is a set, empty value.
type listconEntry struct {
	Name            string  `json:"name"`
	Schema          string  `json:"schema"`
	URL             string  `json:"url"`
	Username        *string `json:"username"`
	Password        *string `json:"password"`
	Failover        *string `json:"failover"`
	Timeout         int     `json:"timeout"`
	MaxDataSize     int     `json:"maxdatasize"`
	UserAgent       *string `json:"useragent"`
	HTTPRedirect    int     `json:"httpredirect"`
	VerifyPeer      int     `json:"verify_peer"`
	VerifyHost      int     `json:"verify_host"`
	TLSVersion      int     `json:"tlsversion"`
	AuthMethod      int     `json:"authmethod"`
	KeepConnections int     `json:"keep_connections"`
	ClientCert      *string `json:"client_cert"`
	ClientKey       *string `json:"client_key"`
	CipherSuites    *string `json:"cipher_suites"`
	HTTPProxy       *string `json:"http_proxy"`
	HTTPProxyPort   int     `json:"http_proxy_port"`
	FromFile        bool    `json:"from_file"`
}

// ListconJSON returns {"connections": [...]} with every defined connection in Kamailio's
// listcon order: config-file connections in file order, then httpcon connections in
// reverse definition order (Kamailio's list is LIFO and the file is loaded last).
//
// With no connections it returns {"connections": []}, where Kamailio answers the RPC
// with the fault 500 "No Connection Definitions": an empty list is the same fact, and
// callers need not handle a special case.
//
// Passwords never appear: a set password is "***", an unset one null, and the
// user:password@ a config-file url may carry (kept verbatim there) is masked the same way.
// Strings that are not valid UTF-8 are written with U+FFFD, as encoding/json does.
func (c *Config) ListconJSON() ([]byte, error) {
	list := struct {
		Connections []listconEntry `json:"connections"`
	}{Connections: []listconEntry{}}
	if c != nil {
		for _, cc := range c.Connections {
			if cc != nil && cc.FromFile {
				list.Connections = append(list.Connections, newListconEntry(cc))
			}
		}
		for i := len(c.Connections) - 1; i >= 0; i-- {
			if cc := c.Connections[i]; cc != nil && !cc.FromFile {
				list.Connections = append(list.Connections, newListconEntry(cc))
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // URLs with '&' stay readable
	if err := enc.Encode(list); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func newListconEntry(cc *Connection) listconEntry {
	e := listconEntry{
		Name:            cc.Name,
		Schema:          cc.Scheme,
		URL:             cc.URL,
		Username:        optPtr(cc.Username),
		Timeout:         cc.Timeout,
		MaxDataSize:     cc.MaxDataSize,
		UserAgent:       optPtr(cc.UserAgent),
		HTTPRedirect:    cc.HTTPRedirect,
		VerifyPeer:      cc.VerifyPeer,
		VerifyHost:      cc.VerifyHost,
		TLSVersion:      cc.TLSVersion,
		AuthMethod:      cc.AuthMethod,
		KeepConnections: cc.KeepConnections,
		ClientCert:      optPtr(cc.ClientCert),
		ClientKey:       optPtr(cc.ClientKey),
		CipherSuites:    optPtr(cc.CipherSuites),
		HTTPProxy:       optPtr(cc.HTTPProxy),
		HTTPProxyPort:   cc.HTTPProxyPort,
		FromFile:        cc.FromFile,
	}
	if cc.Password.Set {
		masked := "***"
		e.Password = &masked
	}
	if cc.Failover != "" {
		f := cc.Failover
		e.Failover = &f
	}
	// A config-file url is kept verbatim, and an httpcon url may hold a second
	// "user:password@" after the first '@' (which ended the userinfo): mask both kinds,
	// and a proxy's credentials.
	e.URL = maskURLPassword(cc.URL)
	if e.HTTPProxy != nil {
		scheme, rest, ok := strings.Cut(*e.HTTPProxy, "://")
		masked := maskURLPassword(*e.HTTPProxy)
		if ok {
			masked = scheme + "://" + maskURLPassword(rest)
		}
		e.HTTPProxy = &masked
	}
	return e
}

// maskURLPassword replaces the password of a user:password@ prefix with "***". It takes
// the last '@' so that no candidate is missed, whichever '@' curl would take; masking a
// path that merely looks like credentials is harmless in a listing.
func maskURLPassword(u string) string {
	at := strings.LastIndexByte(u, '@')
	if at < 0 {
		return u
	}
	colon := strings.IndexByte(u[:at], ':')
	if colon < 0 {
		return u
	}
	return u[:colon+1] + "***" + u[at:]
}

func optPtr(o OptString) *string {
	if !o.Set {
		return nil
	}
	v := o.Value
	return &v
}

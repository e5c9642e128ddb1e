// This file owns Kamailio's httpclient counters (connections, connok, connfail) with the
// module's counting rules, kept as atomics because many host threads update them at once.

package engine

import "sync/atomic"

// counters mirrors the "httpclient" counter group of Kamailio's http_client.
type counters struct {
	// connections is set once at New: the number of httpcon connections only (Kamailio
	// adds it in mod_init before the config file is loaded).
	connections atomic.Uint64
	connok      atomic.Uint64
	connfail    atomic.Uint64
}

// countResult applies Kamailio's rule to one finished attempt: connok only for a final
// status of exactly 200, connfail for every curl error and every other status. Internal
// -1 failures (unknown connection, ...) are not passed here: they count nothing.
func (c *counters) countResult(status, curlCode int) {
	if curlCode == 0 && status == 200 {
		c.connok.Add(1)
		return
	}
	c.connfail.Add(1)
}

// Counters returns the httpclient counters: connections, connok, connfail.
func (e *Engine) Counters() (connections, connok, connfail uint64) {
	return e.cnt.connections.Load(), e.cnt.connok.Load(), e.cnt.connfail.Load()
}

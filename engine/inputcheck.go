// This file owns the refusal of header injection: no caller-supplied text (a method, a
// Content-Type, a custom header entry, a user agent, a user name, a background option)
// may put a CR, an LF or a NUL on the wire where it would end a header line, start a
// new one or end the head. libcurl 7.88 sends such text verbatim, so a value taken from
// a SIP message or a mail could add headers or smuggle a second request; hc refuses it
// before anything is sent, with a message naming the field.
//
// One deliberate exception keeps Kamailio's hdrs contract: an entry may hold several
// header lines joined by CRLF ("X-A: 1\r\nX-B: 2" sends two headers, which the oracle
// records). Every line of such an entry must then be a header field, "name: value" with
// a token name; a bare CR or LF, an empty line (the end of the head) or a line that is
// not a field is refused.

package engine

import (
	"errors"
	"fmt"
	"strings"
)

// errHeaderInjection is the cause every refusal of this file wraps.
var errHeaderInjection = errors.New("CR, LF or NUL would inject into the request head")

// hasLineBreak reports a CR, LF or NUL in s.
func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n\x00") }

// checkNoLineBreak refuses a single-line value (a Content-Type, a user agent, a user
// name) that holds a CR, LF or NUL. what names the field in the message.
func checkNoLineBreak(what, s string) error {
	if i := strings.IndexAny(s, "\r\n\x00"); i >= 0 {
		return fmt.Errorf("%s: %s at byte %d: %w", what, quoteByte(s[i]), i, errHeaderInjection)
	}
	return nil
}

// checkMethod refuses a request method that is not an RFC 9110 token: a space, CR or LF
// in it would rewrite the request line.
func checkMethod(m string) error {
	for i := 0; i < len(m); i++ {
		if !isTokenChar(m[i]) {
			return fmt.Errorf("method %s: %s at byte %d is not a token character (a method cannot hold spaces or line breaks)",
				quoted(m, 32), quoteByte(m[i]), i)
		}
	}
	return nil
}

// checkHeaderEntry refuses a custom header entry (one CURLOPT_HTTPHEADER entry, i.e.
// Kamailio's hdrs or one of Halon's "headers") that would inject. An entry without a
// line break keeps curl's rules (no ':' means not sent, "X;" sends "X:", ...); one with
// line breaks must be CRLF-separated header fields.
func checkHeaderEntry(e string) error {
	if strings.IndexByte(e, 0) >= 0 {
		return fmt.Errorf("header %s: NUL byte: %w", quoted(e, 40), errHeaderInjection)
	}
	if !strings.ContainsAny(e, "\r\n") {
		return nil
	}
	for n, line := range strings.Split(e, "\r\n") {
		if i := strings.IndexAny(line, "\r\n"); i >= 0 {
			return fmt.Errorf("header line %d %s: bare %s (lines are separated by CRLF): %w",
				n+1, quoted(line, 40), quoteByte(line[i]), errHeaderInjection)
		}
		if !isHeaderField(line) {
			return fmt.Errorf("header line %d %s is not a \"Name: value\" field: %w", n+1, quoted(line, 40), errHeaderInjection)
		}
	}
	return nil
}

// checkHeaderEntries is checkHeaderEntry over a list.
func checkHeaderEntries(entries []string) error {
	for _, e := range entries {
		if err := checkHeaderEntry(e); err != nil {
			return err
		}
	}
	return nil
}

// isHeaderField reports whether line is "token:" followed by anything.
func isHeaderField(line string) bool {
	colon := strings.IndexByte(line, ':')
	if colon <= 0 {
		return false
	}
	for i := 0; i < colon; i++ {
		if !isTokenChar(line[i]) {
			return false
		}
	}
	return true
}

// isTokenChar is RFC 9110's tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// check is the last line of defence before a head is written: whatever path a value
// took, nothing in it may break a line. It returns curl's 43 (bad argument) and nothing
// is sent; the front doors refuse earlier with their own codes and messages.
func (h *reqHead) check() *curlError {
	fail := func(err error) *curlError {
		return newCurlError(curlBadFunctionArg, "request refused: "+err.Error())
	}
	if err := checkMethod(h.method); err != nil {
		return fail(err)
	}
	for _, f := range []struct{ what, v string }{
		{"request target", h.target}, {"host", h.hostPort}, {"authorization", h.auth},
		{"authorization", h.authLine}, {"proxy authorization", h.proxyAuth}, {"user agent", h.ua.Value},
	} {
		if err := checkNoLineBreak(f.what, f.v); err != nil {
			return fail(err)
		}
	}
	if strings.ContainsAny(h.target, " \t") || strings.ContainsAny(h.hostPort, " \t") {
		return fail(errors.New("request target or host holds a blank"))
	}
	if err := checkHeaderEntries(h.custom); err != nil {
		return fail(err)
	}
	return nil
}

// checkBackgroundSpec refuses a background request whose options would inject, after
// the plugin's own checks (so that their texts keep precedence). The password is exempt:
// it is only ever sent base64-encoded or used as a key. The message starts with Halon's
// "Bad <name> value" and says why.
func checkBackgroundSpec(spec *BackgroundSpec) error {
	bad := func(name string, err error) error {
		return &OptionError{Option: name, Text: "Bad " + name + " value: " + err.Error()}
	}
	if spec.CustomMethod {
		if err := checkMethod(spec.Method); err != nil {
			return bad("method", err)
		}
	}
	if err := checkHeaderEntries(spec.Headers); err != nil {
		return bad("headers", err)
	}
	for _, o := range []struct {
		name string
		v    OptString
	}{{"proxy", spec.Proxy}, {"sourceip", spec.SourceIP}, {"username", spec.Username}, {"aws_sigv4", spec.AWSSigV4}} {
		if err := checkNoLineBreak(o.name, o.v.Value); err != nil {
			return bad(o.name, err)
		}
	}
	if spec.Body.Form != nil {
		for _, p := range spec.Body.Form.Parts {
			if err := checkNoLineBreak("form field type", p.Type); err != nil {
				return bad("form", err)
			}
		}
	}
	return nil
}

// checkConfig refuses, at hc_init, settings whose values would reach a request head
// with a line break: the user agent (settings, httpcon ;useragent=, INI useragent) and
// the user name (a Digest header quotes it verbatim). Kamailio 5.6.3 starts with them
// and libcurl sends them; hc names the connection instead.
func checkConfig(c *Config) error {
	if err := checkNoLineBreak("useragent", c.Defaults.UserAgent.Value); err != nil {
		return err
	}
	for _, cc := range c.Connections {
		for _, f := range []struct{ what, v string }{{"useragent", cc.UserAgent.Value}, {"username", cc.Username.Value}} {
			if err := checkNoLineBreak(f.what, f.v); err != nil {
				return fmt.Errorf("connection %s: %w", quoted(cc.Name, 40), err)
			}
		}
	}
	return nil
}

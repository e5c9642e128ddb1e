// This file owns keeping passwords out of what hc prints: error messages and warnings
// that quote a setting (an httpcon value, a settings line) and the connection listing.
// URLs parsed the curl way are redacted by reqURL.redacted and redactURL (urlbuild.go);
// the text here may be malformed, so it masks whatever could be a password.

package engine

import "strings"

// maskUserinfo hides every password a "user:password@" in s could hold: after each "//"
// (or, when there is none, after "=>" or from the start) up to the next '@', the text
// after the first ':' (the httpcon grammar's rule: the first '@' ends the userinfo, its
// first ':' starts the password). The text may be malformed, so every candidate is
// masked; masking text that only looks like credentials is harmless in a message.
func maskUserinfo(s string) string {
	if !strings.Contains(s, "//") {
		start := 0
		if i := strings.Index(s, "=>"); i >= 0 {
			start = i + 2
		}
		return maskPasswordFrom(s, start)
	}
	for from := 0; ; {
		i := strings.Index(s[from:], "//")
		if i < 0 {
			return s
		}
		from += i + 2
		s = maskPasswordFrom(s, from)
	}
}

// maskPasswordFrom masks the password of a userinfo that starts at start.
func maskPasswordFrom(s string, start int) string {
	at := strings.IndexByte(s[start:], '@')
	if at < 0 {
		return s
	}
	colon := strings.IndexByte(s[start:start+at], ':')
	if colon < 0 {
		return s
	}
	return s[:start+colon+1] + "***" + s[start+at:]
}

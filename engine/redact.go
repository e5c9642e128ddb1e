// This file owns keeping passwords out of what hc prints: error messages and warnings
// that quote a setting (an httpcon value, a settings line) and the connection listing.
// URLs parsed the curl way are redacted by reqURL.redacted and redactURL (urlbuild.go);
// the text here may be malformed, so it masks whatever could be a password.

package engine

import "strings"

// maskUserinfo hides the password of the first "user:password@" in s: the userinfo
// starts after the first "//" (or after "=>", or at the start, when there is none) and
// ends at the first '@', the httpcon grammar's rule; its first ':' starts the password.
// Masking text that only looks like credentials is harmless in a message.
func maskUserinfo(s string) string {
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s[:at], "//"); i >= 0 {
		start = i + 2
	} else if i := strings.Index(s[:at], "=>"); i >= 0 {
		start = i + 2
	}
	colon := strings.IndexByte(s[start:at], ':')
	if colon < 0 {
		return s
	}
	return s[:start+colon+1] + "***" + s[at:]
}

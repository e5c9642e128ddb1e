"""Results copied out of C memory: Result (synchronous calls) and BackgroundResult."""

class Result:
    """The answer of one synchronous call, copied out of C memory.

    ``ret`` is Kamailio's return value (HTTP status, curl code 1..99, or -1); ``body`` the
    result bytes; ``body_kept`` whether Kamailio would store them (2xx-4xx); ``code`` the
    hc_code; ``error`` a message when ``ret`` is not an HTTP status.
    """

    __slots__ = ("ret", "code", "status", "curl_code", "body_kept", "body", "content_type",
                 "effective_url", "headers", "http_version", "error")

    def __init__(self, c):
        self.ret = c.ret
        self.code = c.code
        self.status = c.status
        self.curl_code = c.curl_code
        self.body_kept = bool(c.body_kept)
        self.body = c.body[:c.body_len] if c.body_len else b""
        self.content_type = c.content_type.decode("utf-8", "replace")
        self.effective_url = c.effective_url.decode("utf-8", "replace")
        self.headers = c.headers[:c.headers_len] if c.headers_len else b""
        self.http_version = c.http_version.decode()
        self.error = c.error.decode("utf-8", "replace")

    def __repr__(self):
        return "<hc.Result ret=%d status=%d curl_code=%d body=%d bytes%s>" % (
            self.ret, self.status, self.curl_code, len(self.body),
            (" error=%r" % self.error) if self.error else "")


class BackgroundResult:
    """The one result of a background request, copied out of C memory.

    Halon's contract: ``status`` and ``content`` (bytes) when a response arrived, whatever
    its status; otherwise ``error`` (libcurl's text, e.g. "Timeout was reached") with
    ``curl_code``. ``outcome`` is COMPLETED, CANCELLED or SHUT_DOWN. ``timings`` is a dict
    of seconds since submission (queue, connect, tls, first_byte, total)."""

    __slots__ = ("id", "outcome", "status", "content", "curl_code", "error", "detail",
                 "headers", "effective_url", "http_version", "timings")

    def __init__(self, c):
        self.id = c.id
        self.outcome = c.outcome
        self.status = c.status
        self.content = c.content[:c.content_len] if c.content_len else b""
        self.curl_code = c.curl_code
        self.error = c.error.decode("utf-8", "replace")
        self.detail = c.detail.decode("utf-8", "replace")
        self.headers = c.headers[:c.headers_len] if c.headers_len else b""
        self.effective_url = c.effective_url.decode("utf-8", "replace")
        self.http_version = c.http_version.decode()
        t = c.timings
        self.timings = {"queue": t.queue, "connect": t.connect, "tls": t.tls,
                        "first_byte": t.first_byte, "total": t.total}

    def as_halon(self):
        """Halon's shape: {"status", "content"} or {"error"}."""
        if self.error:
            return {"error": self.error}
        return {"status": self.status, "content": self.content}

    def __repr__(self):
        if self.error:
            return "<hc.BackgroundResult id=%d error=%r>" % (self.id, self.error)
        return "<hc.BackgroundResult id=%d status=%d content=%d bytes>" % (
            self.id, self.status, len(self.content))



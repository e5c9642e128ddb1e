"""Python binding for libhc, through ctypes (no third-party dependencies).

libhc is an HTTP client engine written in Go. Its synchronous calls reproduce Kamailio's
http_client module: the same settings (``hc.init``), the same return values (HTTP status,
a libcurl error code 1..99, or -1) and the same requests on the wire.

The library is found in this order: the ``HC_LIBRARY`` environment variable (a path), a
``libhc.so`` next to this package, then the system's library path. It is loaded once, with
``RTLD_NODELETE``, and kept for the life of the process: a Go runtime cannot be unloaded.

Fork rule: load and use libhc only in a process that does not fork afterwards. In a child
forked after the library was loaded (``os.fork``, ``multiprocessing`` with the fork start
method, ``gunicorn --preload``) every call raises ``HcError`` with code
``HC_E_FORKED`` at once; import and initialise in the child instead.
"""
import ctypes
import ctypes.util
import json
import os

__all__ = [
    "HcError", "Result", "BackgroundResult", "Client", "load", "init", "listcon", "counters",
    "version", "strerror", "curlerror", "http_connect", "query", "client_get", "request",
    "get_redirect", "submit", "poll", "background_fd", "cancel", "shutdown",
]

# hc_code values (include/hc.h); append-only.
HC_OK = 0
HC_E_INVALID = 1
HC_E_CONFIG = 2
HC_E_FORKED = 3
HC_E_NOT_INIT = 4
HC_E_ALREADY_INIT = 5
HC_E_INTERNAL = 6
HC_E_RANGE = 7
HC_E_NOMEM = 8
HC_E_BAD_HANDLE = 9
HC_E_NOT_FOUND = 10
HC_E_QUEUE_FULL = 11
HC_E_SHUTDOWN = 12
HC_E_MULTI_RUNTIME = 13
HC_E_TOO_LARGE = 14
HC_E_TRANSFER = 15
HC_E_HTTP = 16
HC_E_AGAIN = 17

# hc_outcome values.
COMPLETED, CANCELLED, SHUT_DOWN = 0, 1, 2

HC_ERROR_SIZE = 256

# Codes that are not part of Kamailio's return-value contract: a request function raises
# HcError for them instead of returning -1.
_RAISING = {HC_E_FORKED, HC_E_NOT_INIT, HC_E_INTERNAL, HC_E_NOMEM, HC_E_MULTI_RUNTIME}


class HcError(Exception):
    """An error reported by libhc: ``code`` is an hc_code, ``message`` the reason."""

    def __init__(self, code, message=None):
        self.code = code
        self.message = message or strerror(code)
        super().__init__("%s (hc_code %d)" % (self.message, code))


class _CResult(ctypes.Structure):
    _fields_ = [
        ("ret", ctypes.c_int),
        ("code", ctypes.c_int),
        ("status", ctypes.c_int),
        ("curl_code", ctypes.c_int),
        ("body_kept", ctypes.c_int),
        ("body", ctypes.c_void_p),
        ("body_len", ctypes.c_size_t),
        ("content_type", ctypes.c_char_p),
        ("effective_url", ctypes.c_char_p),
        ("headers", ctypes.c_void_p),
        ("headers_len", ctypes.c_size_t),
        ("http_version", ctypes.c_char_p),
        ("error", ctypes.c_char_p),
    ]


class _CCounters(ctypes.Structure):
    _fields_ = [("connections", ctypes.c_uint64), ("connok", ctypes.c_uint64),
                ("connfail", ctypes.c_uint64)]


class _CVersion(ctypes.Structure):
    _fields_ = [("version_num", ctypes.c_int), ("version", ctypes.c_char_p),
                ("go_version", ctypes.c_char_p), ("curl_compat", ctypes.c_char_p)]


class _CTimings(ctypes.Structure):
    _fields_ = [(n, ctypes.c_double) for n in ("queue", "connect", "tls", "first_byte", "total")]


class _CBackgroundResult(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_uint64),
        ("outcome", ctypes.c_int),
        ("status", ctypes.c_int),
        ("content", ctypes.c_void_p),
        ("content_len", ctypes.c_size_t),
        ("curl_code", ctypes.c_int),
        ("error", ctypes.c_char_p),
        ("detail", ctypes.c_char_p),
        ("headers", ctypes.c_void_p),
        ("headers_len", ctypes.c_size_t),
        ("effective_url", ctypes.c_char_p),
        ("http_version", ctypes.c_char_p),
        ("timings", _CTimings),
    ]


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
        self.content = ctypes.string_at(c.content, c.content_len) if c.content_len else b""
        self.curl_code = c.curl_code
        self.error = c.error.decode("utf-8", "replace")
        self.detail = c.detail.decode("utf-8", "replace")
        self.headers = ctypes.string_at(c.headers, c.headers_len) if c.headers_len else b""
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
        self.body = ctypes.string_at(c.body, c.body_len) if c.body_len else b""
        self.content_type = c.content_type.decode("utf-8", "replace")
        self.effective_url = c.effective_url.decode("utf-8", "replace")
        self.headers = ctypes.string_at(c.headers, c.headers_len) if c.headers_len else b""
        self.http_version = c.http_version.decode()
        self.error = c.error.decode("utf-8", "replace")

    def __repr__(self):
        return "<hc.Result ret=%d status=%d curl_code=%d body=%d bytes%s>" % (
            self.ret, self.status, self.curl_code, len(self.body),
            (" error=%r" % self.error) if self.error else "")


_lib = None


def _candidates():
    env = os.environ.get("HC_LIBRARY")
    if env:
        yield env
        return
    yield os.path.join(os.path.dirname(os.path.abspath(__file__)), "libhc.so")
    found = ctypes.util.find_library("hc")
    yield found or "libhc.so"


def load():
    """Load libhc (once per process) and return the ctypes handle."""
    global _lib
    if _lib is not None:
        return _lib
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: not found" % path)
            continue
        try:
            lib = ctypes.CDLL(path, mode=os.RTLD_NOW | getattr(os, "RTLD_NODELETE", 0))
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise OSError("libhc not found (set HC_LIBRARY): " + "; ".join(errors))
    _declare(lib)
    _lib = lib  # kept for the life of the process: never unloaded
    return lib


def _declare(lib):
    p, i, sz, res = ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t, ctypes.POINTER(ctypes.POINTER(_CResult))
    sig = {
        "hc_strerror": (p, [i]),
        "hc_version_info": (ctypes.POINTER(_CVersion), []),
        "hc_init": (i, [p, ctypes.c_char_p, sz]),
        "hc_listcon": (i, [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(sz)]),
        "hc_get_counters": (i, [ctypes.POINTER(_CCounters)]),
        "hc_free": (None, [ctypes.c_void_p]),
        "hc_result_free": (None, [ctypes.POINTER(_CResult)]),
        "hc_http_connect": (i, [p, p, p, p, sz, res]),
        "hc_query": (i, [p, p, p, res]),
        "hc_client_get": (i, [p, p, p, res]),
        "hc_request": (i, [p, p, p, p, res]),
        "hc_get_redirect": (i, [p, res]),
        "hc_curlerror": (p, [i]),
        "hc_background_submit": (i, [p, p, p, p, sz, ctypes.POINTER(ctypes.c_uint64), ctypes.c_char_p, sz]),
        "hc_background_poll": (i, [i, ctypes.POINTER(ctypes.POINTER(_CBackgroundResult))]),
        "hc_background_fd": (i, [ctypes.POINTER(ctypes.c_int)]),
        "hc_background_cancel": (i, [ctypes.c_uint64]),
        "hc_shutdown": (i, [i]),
        "hc_background_result_free": (None, [ctypes.POINTER(_CBackgroundResult)]),
    }
    for name, (restype, argtypes) in sig.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes


def _bytes(v, what):
    """str/bytes/None -> bytes/None for a C string argument."""
    if v is None or isinstance(v, bytes):
        return v
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape")
    raise TypeError("%s must be str, bytes or None, not %s" % (what, type(v).__name__))


def strerror(code):
    """The static text of an hc_code."""
    return load().hc_strerror(code).decode()


def version():
    """The loaded library's version: dict(version_num, version, go_version, curl_compat)."""
    v = load().hc_version_info().contents
    return {"version_num": v.version_num, "version": v.version.decode(),
            "go_version": v.go_version.decode(), "curl_compat": v.curl_compat.decode()}


def init(settings=None):
    """Configure the library for this process (once). settings is the hc_init text: one
    ``name = value`` per line (Kamailio http_client modparams plus hc's own), or a list of
    (name, value) pairs. Raises HcError (HC_E_CONFIG with the reason, ...)."""
    if isinstance(settings, (list, tuple)):
        settings = "\n".join("%s = %s" % (k, v) for k, v in settings)
    buf = ctypes.create_string_buffer(HC_ERROR_SIZE * 4)
    code = load().hc_init(_bytes(settings, "settings"), buf, len(buf))
    if code != HC_OK:
        raise HcError(code, buf.value.decode("utf-8", "replace") or None)


def listcon():
    """The defined connections and their effective parameters (passwords masked)."""
    lib = load()
    out, n = ctypes.c_void_p(), ctypes.c_size_t()
    code = lib.hc_listcon(ctypes.byref(out), ctypes.byref(n))
    if code != HC_OK:
        raise HcError(code)
    try:
        return json.loads(ctypes.string_at(out, n.value))
    finally:
        lib.hc_free(out)


def counters():
    """Kamailio's httpclient counters: dict(connections, connok, connfail)."""
    c = _CCounters()
    code = load().hc_get_counters(ctypes.byref(c))
    if code != HC_OK:
        raise HcError(code)
    return {"connections": c.connections, "connok": c.connok, "connfail": c.connfail}


def curlerror(code):
    """Kamailio's $curlerror(code) text."""
    return load().hc_curlerror(int(code)).decode()


def _call(fn, *args):
    lib = load()
    out = ctypes.POINTER(_CResult)()
    getattr(lib, fn)(*args, ctypes.byref(out))
    if not out:
        raise HcError(HC_E_NOMEM)
    try:
        r = Result(out.contents)
    finally:
        lib.hc_result_free(out)
    if r.ret < 0 and r.code in _RAISING:
        raise HcError(r.code, r.error)
    return r


def http_connect(con, url=None, content_type=None, data=None):
    """Kamailio's http_connect on connection ``con``: GET when ``data`` is empty, else a
    POST of ``data`` (up to its first NUL) with ``content_type`` (None: text/plain;
    "": no Content-Type). Blocks for the exchange. Returns a Result."""
    data = _bytes(data, "data") or b""
    return _call("hc_http_connect", _bytes(con, "con"), _bytes(url, "url"),
                 _bytes(content_type, "content_type"), data, len(data))


def query(url, post=None, hdrs=None):
    """Kamailio's http_client_query. Returns a Result (first body line by default)."""
    return _call("hc_query", _bytes(url, "url"), _bytes(post, "post"), _bytes(hdrs, "hdrs"))


def client_get(url, body=None, hdrs=None):
    """Kamailio's http_client_get: a GET that may carry a body. Returns a Result."""
    return _call("hc_client_get", _bytes(url, "url"), _bytes(body, "body"), _bytes(hdrs, "hdrs"))


def request(method, url, body=None, hdrs=None):
    """Kamailio 6.0's http_client_request: any method. Returns a Result."""
    return _call("hc_request", _bytes(method, "method"), _bytes(url, "url"),
                 _bytes(body, "body"), _bytes(hdrs, "hdrs"))


def get_redirect(con):
    """Kamailio's http_get_redirect: Result.ret is 1 (body = effective URL) or -1."""
    return _call("hc_get_redirect", _bytes(con, "con"))


# ---- Background requests -------------------------------------------------------------

def submit(pool, url, options=None, body=None):
    """Queue a request on a pool (defined by a ``pool`` setting) and return its id at once.
    ``options`` is a dict (or JSON text) with Halon's keys; ``body`` a str/bytes string body.
    Raises HcError: HC_E_NOT_FOUND ("Missing ID in configuration"), HC_E_INVALID with
    Halon's "Bad ... value" message, HC_E_QUEUE_FULL, HC_E_SHUTDOWN."""
    if options is not None and not isinstance(options, (str, bytes)):
        options = json.dumps(options)
    data = _bytes(body, "body")
    rid = ctypes.c_uint64()
    buf = ctypes.create_string_buffer(HC_ERROR_SIZE)
    code = load().hc_background_submit(_bytes(pool, "pool"), _bytes(url, "url"), _bytes(options, "options"),
                                       data, len(data) if data is not None else 0,
                                       ctypes.byref(rid), buf, len(buf))
    if code != HC_OK:
        raise HcError(code, buf.value.decode("utf-8", "replace") or None)
    return rid.value


def poll(timeout=0.0):
    """The next finished BackgroundResult, waiting up to ``timeout`` seconds (0: no wait,
    None: until one arrives), or None."""
    lib = load()
    out = ctypes.POINTER(_CBackgroundResult)()
    ms = -1 if timeout is None else int(timeout * 1000)
    code = lib.hc_background_poll(ms, ctypes.byref(out))
    if code == HC_E_AGAIN:
        return None
    if code != HC_OK:
        raise HcError(code)
    try:
        return BackgroundResult(out.contents)
    finally:
        lib.hc_background_result_free(out)


def background_fd():
    """A descriptor that is readable while results wait (never read or close it)."""
    fd = ctypes.c_int()
    code = load().hc_background_fd(ctypes.byref(fd))
    if code != HC_OK:
        raise HcError(code)
    return fd.value


def cancel(request_id):
    """Cancel a request that has not finished; its result (outcome CANCELLED) is queued."""
    code = load().hc_background_cancel(request_id)
    if code != HC_OK:
        raise HcError(code)


def shutdown(grace=5.0):
    """Stop accepting background requests, wait up to ``grace`` seconds, fail the rest."""
    code = load().hc_shutdown(int(grace * 1000))
    if code != HC_OK:
        raise HcError(code)


class _Dispatch:
    """Routes results (one process-wide queue) to whoever waits for their id: blocking
    callers and asyncio futures. Results nobody waits for yet are kept until claimed."""

    def __init__(self):
        import threading
        self.lock = threading.Lock()
        self.unclaimed = {}  # id -> BackgroundResult
        self.futures = {}    # id -> asyncio.Future
        self.readers = set()  # event loops with our fd registered

    def deliver(self, r):
        with self.lock:
            fut = self.futures.pop(r.id, None)
            if fut is None:
                self.unclaimed[r.id] = r
                return
        loop = fut.get_loop()
        loop.call_soon_threadsafe(lambda: fut.done() or fut.set_result(r))

    def drain(self):
        while True:
            r = poll(0)
            if r is None:
                return
            self.deliver(r)

    def claim(self, rid):
        with self.lock:
            return self.unclaimed.pop(rid, None)

    def wait(self, rid, timeout):
        import time
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            r = self.claim(rid)
            if r is not None:
                return r
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if left == 0.0:
                return None
            got = poll(0.05 if left is None else min(0.05, left))
            if got is not None:
                self.deliver(got)


_dispatch = _Dispatch()


class Client:
    """Background requests on one pool.

    ``background()`` submits and waits on the calling thread; ``await fetch()`` submits and
    waits in an asyncio event loop, woken through ``hc_background_fd`` with
    ``loop.add_reader`` (no thread per request). Both return a BackgroundResult. Results of
    requests submitted with ``submit()`` are fetched with ``result()``."""

    def __init__(self, pool="default"):
        self.pool = pool

    def submit(self, url, options=None, body=None):
        return submit(self.pool, url, options, body)

    def result(self, request_id, timeout=None):
        """Wait for the result of a submitted request (None if timeout expires first)."""
        return _dispatch.wait(request_id, timeout)

    def background(self, url, options=None, body=None, timeout=None):
        """Submit and wait on this thread for the one result."""
        return self.result(self.submit(url, options, body), timeout)

    async def fetch(self, url, options=None, body=None):
        """Submit and await the result in the running asyncio loop."""
        import asyncio
        loop = asyncio.get_running_loop()
        if loop not in _dispatch.readers:
            loop.add_reader(background_fd(), _dispatch.drain)
            _dispatch.readers.add(loop)
        rid = self.submit(url, options, body)
        fut = loop.create_future()
        with _dispatch.lock:
            early = _dispatch.unclaimed.pop(rid, None)
            if early is None:
                _dispatch.futures[rid] = fut
        if early is not None:
            return early
        return await fut

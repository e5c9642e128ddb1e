"""Background requests (Halon http-background): submit, poll, the readiness fd, cancel,
shutdown, and Client, which routes results to blocking callers and asyncio futures."""
import ctypes
import json

from hc.errors import HC_E_AGAIN, HC_ERROR_SIZE, HC_OK, HcError
from hc.native import _CBackgroundResult, load, request_fns, to_bytes
from hc.results import BackgroundResult

_BackgroundResultPtr = ctypes.POINTER(_CBackgroundResult)
_INT_MAX = 2**31 - 1  # timeout_ms is a C int: a longer wait is clamped, not wrapped


def submit(pool, url, options=None, body=None):
    """Queue a request on a pool (defined by a ``pool`` setting) and return its id at once.
    ``options`` is a dict (or JSON text) with Halon's keys; ``body`` a str/bytes string body.
    Raises HcError: HC_E_NOT_FOUND ("Missing ID in configuration"), HC_E_INVALID with
    Halon's "Bad ... value" message, HC_E_QUEUE_FULL, HC_E_SHUTDOWN."""
    if options is not None and not isinstance(options, (str, bytes)):
        options = json.dumps(options)
    data = to_bytes(body, "body")
    rid = ctypes.c_uint64()
    buf = ctypes.create_string_buffer(HC_ERROR_SIZE)
    code = request_fns()["hc_background_submit"](
        to_bytes(pool, "pool"), to_bytes(url, "url"), to_bytes(options, "options"),
        data, ctypes.c_size_t(len(data) if data is not None else 0),
        ctypes.byref(rid), buf, ctypes.c_size_t(len(buf)))
    if code != HC_OK:
        raise HcError(code, buf.value.decode("utf-8", "replace") or None)
    return rid.value


def poll(timeout=0.0):
    """The next finished BackgroundResult, waiting up to ``timeout`` seconds (0: no wait,
    None: until one arrives), or None."""
    fns = request_fns()
    out = _BackgroundResultPtr()
    ms = -1 if timeout is None else max(-1, min(int(timeout * 1000), _INT_MAX))
    code = fns["hc_background_poll"](ctypes.c_int(ms), ctypes.byref(out))
    if code == HC_E_AGAIN:
        return None
    if code != HC_OK:
        raise HcError(code)
    try:
        return BackgroundResult(out.contents)
    finally:
        fns["hc_background_result_free"](out)


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

"""Finding and loading libhc, the C structures of include/hc.h, and argument conversion.

The library is found in this order: the HC_LIBRARY environment variable (a path), a
libhc.so next to this package, then the system's library path. It is loaded once, with
RTLD_NODELETE, and kept for the life of the process: a Go runtime cannot be unloaded.
"""
import ctypes
import ctypes.util
import os

# Binary fields (a body, header lines) are pointers to c_char: a slice ptr[:n] copies n bytes
# inside ctypes' C code, where ctypes.string_at is a foreign call through libffi that costs
# seven times as much (0.36 against 0.05 µs a field, timeit). With to_bytes's exact-type
# test first, a kept-connection request from Python costs 2 to 3.5 µs less CPU (calling
# thread, requests alternated with the old binding; BENCHMARKS.md item 17).
_bytes_p = ctypes.POINTER(ctypes.c_char)


class _CResult(ctypes.Structure):
    _fields_ = [
        ("ret", ctypes.c_int),
        ("code", ctypes.c_int),
        ("status", ctypes.c_int),
        ("curl_code", ctypes.c_int),
        ("body_kept", ctypes.c_int),
        ("body", _bytes_p),
        ("body_len", ctypes.c_size_t),
        ("content_type", ctypes.c_char_p),
        ("effective_url", ctypes.c_char_p),
        ("headers", _bytes_p),
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
        ("content", _bytes_p),
        ("content_len", ctypes.c_size_t),
        ("curl_code", ctypes.c_int),
        ("error", ctypes.c_char_p),
        ("detail", ctypes.c_char_p),
        ("headers", _bytes_p),
        ("headers_len", ctypes.c_size_t),
        ("effective_url", ctypes.c_char_p),
        ("http_version", ctypes.c_char_p),
        ("timings", _CTimings),
    ]


_lib = None
_untyped = None  # name -> the entry points of _REQUEST_FUNCTIONS without argtypes

# The functions that every request calls, used by this package through entry points of
# their own that have no argtypes. With argtypes, ctypes passes each argument through its
# type's from_param, which allocates an object per argument. Without them (and without a
# lookup of the function per call), hc.http_connect takes 2.75 instead of 3.3 µs hot, and
# a request on a kept connection a median 4 µs less CPU: the calling thread has just woken
# from its wait for the server, and everything it touches then is slow (BENCHMARKS.md,
# item 19). Without argtypes, ctypes converts natively, and exactly, what the wrappers
# pass: bytes or None for a char *, c_size_t and c_int instances, a ctypes buffer, byref(),
# a result pointer. (A bare Python int would become a C int, so lengths go as c_size_t.)
# load()'s handle keeps its argtypes for everyone else.
_REQUEST_FUNCTIONS = ("hc_http_connect", "hc_query", "hc_query_c", "hc_client_get", "hc_request",
                      "hc_get_redirect", "hc_get_content_type", "hc_result_free",
                      "hc_background_submit", "hc_background_poll", "hc_background_result_free")


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
    global _lib, _untyped
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
    untyped = {}
    for name in _REQUEST_FUNCTIONS:
        fn = lib[name]  # a new entry point, apart from the declared lib.<name>
        fn.restype = getattr(lib, name).restype
        untyped[name] = fn
    _untyped = untyped
    _lib = lib  # kept for the life of the process: never unloaded
    return lib


def request_fns():
    """The entry points of _REQUEST_FUNCTIONS without argtypes, by name (loading libhc on
    first use). Callers pass only bytes, None, ctypes instances and byref()s (see above)."""
    if _untyped is None:
        load()
    return _untyped


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
        "hc_query_c": (i, [p, p, p, p, res]),
        "hc_get_content_type": (i, [p, res]),
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


def to_bytes(v, what):
    """str/bytes/None -> bytes/None for a C string argument."""
    kind = type(v)  # exact types first: this runs for every argument of every call
    if kind is str:
        return v.encode("utf-8", "surrogateescape")
    if v is None or kind is bytes:
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape")
    raise TypeError("%s must be str, bytes or None, not %s" % (what, type(v).__name__))




def strerror(code):
    """The static text of an hc_code."""
    return load().hc_strerror(code).decode()

"""Library set-up and the synchronous calls (Kamailio http_client's functions)."""
import ctypes
import json

from hc.errors import HC_ERROR_SIZE, HC_OK, HC_E_NOMEM, RAISING, HcError
from hc.native import _CCounters, _CResult, load, request_fns, to_bytes
from hc.results import Result

_ResultPtr = ctypes.POINTER(_CResult)

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
    code = load().hc_init(to_bytes(settings, "settings"), buf, len(buf))
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
    fns = request_fns()
    out = _ResultPtr()
    fns[fn](*args, ctypes.byref(out))
    if not out:
        raise HcError(HC_E_NOMEM)
    try:
        r = Result(out.contents)
    finally:
        fns["hc_result_free"](out)
    if r.ret < 0 and r.code in RAISING:
        raise HcError(r.code, r.error)
    return r


def http_connect(con, url=None, content_type=None, data=None):
    """Kamailio's http_connect on connection ``con``: GET when ``data`` is empty, else a
    POST of ``data`` (up to its first NUL) with ``content_type`` (None: text/plain;
    "": no Content-Type). Blocks for the exchange. Returns a Result."""
    data = to_bytes(data, "data") or b""
    return _call("hc_http_connect", to_bytes(con, "con"), to_bytes(url, "url"),
                 to_bytes(content_type, "content_type"), data, ctypes.c_size_t(len(data)))


def query(url, post=None, hdrs=None):
    """Kamailio's http_client_query. Returns a Result (first body line by default)."""
    return _call("hc_query", to_bytes(url, "url"), to_bytes(post, "post"), to_bytes(hdrs, "hdrs"))


def query_c(url, post=None, content_type=None, hdrs=None):
    """http_client_query_c of Kamailio's C API: query, plus a Content-Type for the POST."""
    return _call("hc_query_c", to_bytes(url, "url"), to_bytes(post, "post"),
                 to_bytes(content_type, "content_type"), to_bytes(hdrs, "hdrs"))


def get_content_type(con):
    """http_get_content_type: Result.ret is 1 (body = the last response's Content-Type) or -1."""
    return _call("hc_get_content_type", to_bytes(con, "con"))


def client_get(url, body=None, hdrs=None):
    """Kamailio's http_client_get: a GET that may carry a body. Returns a Result."""
    return _call("hc_client_get", to_bytes(url, "url"), to_bytes(body, "body"), to_bytes(hdrs, "hdrs"))


def request(method, url, body=None, hdrs=None):
    """Kamailio 6.0's http_client_request: any method. Returns a Result."""
    return _call("hc_request", to_bytes(method, "method"), to_bytes(url, "url"),
                 to_bytes(body, "body"), to_bytes(hdrs, "hdrs"))


def get_redirect(con):
    """Kamailio's http_get_redirect: Result.ret is 1 (body = effective URL) or -1."""
    return _call("hc_get_redirect", to_bytes(con, "con"))



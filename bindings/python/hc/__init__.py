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
from hc.errors import *  # noqa: F401,F403  (the hc_code values)
from hc.errors import HcError
from hc.native import load, strerror
from hc.results import BackgroundResult, Result
from hc.sync import (client_get, counters, curlerror, get_content_type, get_redirect, http_connect,
                     init, listcon, query, query_c, request, version)
from hc.background import Client, background_fd, cancel, poll, shutdown, submit

__all__ = [
    "HcError", "Result", "BackgroundResult", "Client", "load", "init", "listcon", "counters",
    "version", "strerror", "curlerror", "http_connect", "query", "client_get", "request",
    "get_redirect", "query_c", "get_content_type", "submit", "poll", "background_fd", "cancel", "shutdown",
]

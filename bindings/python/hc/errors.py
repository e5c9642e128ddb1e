"""hc_code values (include/hc.h, append-only) and the HcError exception."""

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
RAISING = {HC_E_FORKED, HC_E_NOT_INIT, HC_E_INTERNAL, HC_E_NOMEM, HC_E_MULTI_RUNTIME}



class HcError(Exception):
    """An error reported by libhc: ``code`` is an hc_code, ``message`` the reason."""

    def __init__(self, code, message=None):
        self.code = code
        if message is None:
            from hc.native import strerror
            message = strerror(code)
        self.message = message
        super().__init__("%s (hc_code %d)" % (self.message, code))



"""Security checks through the C API (issue 8): passwords never appear in hc_listcon,
in error messages (hc_init's error buffer, request results, background refusals and
results) or in the crash log; header injection is refused at the C boundary too.

The crash log is exercised for real: a Go fatal error is provoked, while requests with
credentials are in flight, by handing hc_listcon an output pointer into a PROT_NONE page
(Go's store faults at an address no recover can handle), and the report Go writes to
crash_log is read back. Each test runs in a fresh interpreter (hc_init succeeds once
per process).
"""
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import unittest

from tests.test_hc import PKG_ROOT, run_isolated

SECRETS = ["ConPass7777", "SecondPass8888", "IniPass5555", "IniUrlPass4444", "ProxyPass6666",
           "QueryPass9999", "BgPass1010", "BadPass1212"]


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class TestPasswordsNeverShown(unittest.TestCase):

    def test_listcon_errors_and_crash_log(self):
        port = closed_port()
        with tempfile.TemporaryDirectory() as tmp:
            ini = os.path.join(tmp, "hc.ini")
            with open(ini, "w") as f:
                f.write("[f1]\nurl = http://iu:IniUrlPass4444@127.0.0.1:%d/\nusername = fu\npassword = IniPass5555\n" % port)
            crash = os.path.join(tmp, "crash.log")  # opened, stays empty: nothing crashed
            out = run_isolated("""
                port, ini, crash = %d, %r, %r
                errors = []
                # hc_init errors quoting a password-bearing value (the process may retry).
                for bad in ["httpcon = c1=>http://cu:BadPass1212@h/api;timeout=1;x y",
                            "httpcon = c1 = > http://cu:BadPass1212@h/",
                            "http://cu:BadPass1212@h/"]:
                    try:
                        hc.init(bad)
                        errors.append("accepted: " + bad)
                    except hc.HcError as e:
                        errors.append(e.message)
                hc.init("crash_log = %%s\\n"
                        "pool = {\\"id\\": \\"p\\"}\\n"
                        "httpproxy = http://pu:ProxyPass6666@127.0.0.1:%%d\\nhttpproxyport = 3128\\n"
                        "httpcon = c1=>http://cu:ConPass7777@127.0.0.1:%%d/api\\n"
                        "httpcon = c2=>http://a@b:SecondPass8888@127.0.0.1:%%d/\\n"
                        "httpproxy =\\nhttpproxyport = 0\\n"
                        "config_file = %%s\\n" %% (crash, port, port, port, ini))
                listing = json.dumps(hc.listcon())
                for con in ("c1", "c2", "f1"):
                    r = hc.http_connect(con, "/x")
                    errors.append("%%d %%s" %% (r.ret, r.error))
                for url in ("http://qu:QueryPass9999@127.0.0.1:%%d/" %% port,
                            "http://qu:QueryPass9999@127.0.0.1/a b", "gopher://qu:QueryPass9999@127.0.0.1/"):
                    r = hc.query(url)
                    errors.append("%%d %%s" %% (r.ret, r.error))
                c = hc.Client("p")
                for url in ("gopher://bu:BgPass1010@127.0.0.1/", "http://bu:BgPass1010@127.0.0.1:%%d/" %% port):
                    r = c.background(url, {"timeout": 5}, timeout=20)
                    errors.append("%%s %%s %%s" %% (r.curl_code, r.error, r.detail))
                try:
                    hc.submit("p", "http://127.0.0.1/", {"headers": ["X: 1\\r\\n\\r\\nBgPass1010"], "username": "u",
                                                        "password": "BgPass1010"})
                    errors.append("background injection accepted")
                except hc.HcError as e:
                    errors.append("%%d %%s" %% (e.code, e.message))
                print(json.dumps({"listing": listing, "errors": errors}))
            """ % (port, ini, crash))
        self.assertIn('"password": "***"', out["listing"])
        for e in out["errors"]:
            self.assertNotIn("accepted", e)
        self.assertTrue(any(e.startswith("1 ") and "inject" in e for e in out["errors"]), out["errors"])
        for s in SECRETS:
            self.assertNotIn(s, out["listing"])
        for e in out["errors"]:
            for s in SECRETS:
                self.assertNotIn(s, e)

    def test_crash_log_of_a_fatal_error(self):
        """A real Go fatal error while requests with credentials are in flight: the report
        goes to crash_log (all goroutines' stacks) and holds no password."""
        stall = socket.socket()  # accepts and never answers: the requests stay in flight
        stall.bind(("127.0.0.1", 0))
        stall.listen(16)
        port = stall.getsockname()[1]
        with tempfile.TemporaryDirectory() as tmp:
            crash = os.path.join(tmp, "crash.log")
            code = textwrap.dedent("""
                import ctypes, hc, threading, time
                from hc.native import load
                hc.init("crash_log = %s\\npool = {\\"id\\": \\"p\\"}\\n"
                        "httpcon = c1=>http://cu:ConPass7777@127.0.0.1:%d/api\\nconnection_timeout = 30\\n")
                for i in range(4):
                    hc.submit("p", "http://bu:BgPass1010@127.0.0.1:%d/", {"username": "u", "password": "BgPass1010"})
                threading.Thread(target=hc.http_connect, args=("c1", "/x"), daemon=True).start()
                threading.Thread(target=hc.query, args=("http://qu:QueryPass9999@127.0.0.1:%d/",), daemon=True).start()
                time.sleep(1.0)
                # A page that faults on write: Go's store through it is a fatal error
                # ("unexpected fault address"), not a recoverable panic.
                libc = ctypes.CDLL(None, use_errno=True)
                libc.mmap.restype = ctypes.c_void_p
                libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
                page = libc.mmap(None, 4096, 0, 0x22, -1, 0)  # PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS
                load().hc_listcon(ctypes.cast(ctypes.c_void_p(page), ctypes.POINTER(ctypes.c_void_p)), None)
                print("not crashed")
            """ % (crash, port, port, port))
            env = dict(os.environ, PYTHONPATH=PKG_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
            try:
                p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
            finally:
                stall.close()
            with open(crash) as f:
                log = f.read()
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertNotIn("not crashed", p.stdout)
        # Go prints "unexpected fault address" to stderr; the report proper, from the
        # signal line on with every goroutine (the in-flight requests included), goes to
        # crash_log.
        self.assertIn("unexpected fault address", p.stderr)
        self.assertIn("[signal SIGSEGV", log)
        self.assertIn("engine.(*Engine).Query", log, "the in-flight requests are in the report")
        self.assertIn("hcgo_listcon", log, "the report names the export that crashed")
        for s in SECRETS:
            self.assertNotIn(s, log)
            self.assertNotIn(s, p.stderr)


class TestInjectionRefusedAtTheCBoundary(unittest.TestCase):

    def test_hdrs_method_content_type(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        srv.settimeout(0.5)
        port = srv.getsockname()[1]
        try:
            out = run_isolated("""
                base = "http://127.0.0.1:%d"
                hc.init("httpcon = c=>" + base)
                got = []
                for r in (hc.query(base + "/", None, "X-A: 1\\r\\n\\r\\nGET /smuggled HTTP/1.1"),
                          hc.query(base + "/", None, "X-A: 1\\nX-B: 2"),
                          hc.request("GET / HTTP/1.1\\r\\nX: 1", base + "/"),
                          hc.http_connect("c", "/", "text/plain\\r\\nX-Injected: 1", b"x"),
                          hc.query_c(base + "/", b"x", "a\\rb", None),
                          hc.query(base + "/a\\r\\nX-Injected: 1")):
                    got.append([r.ret, r.error])
                print(json.dumps(got))
            """ % port)
            accepted = []
            try:
                while True:
                    c, _ = srv.accept()
                    accepted.append(c)
            except socket.timeout:
                pass
        finally:
            srv.close()
        self.assertEqual([r[0] for r in out], [-1, -1, -1, -1, -1, 3], out)
        for ret, err in out[:5]:
            self.assertTrue("inject" in err or "token" in err, err)
        self.assertEqual(accepted, [], "nothing may reach the server")


if __name__ == "__main__":
    unittest.main()

"""unittest suite for the ctypes binding and, through build/ctest/hcinit, the same
configuration cases from C.

hc_init succeeds once per process, so every test that initialises the library runs its
body in a fresh interpreter (run_isolated). The library comes from HC_LIBRARY (the
Makefile points it at build/libhc.so).
"""
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import hc
from tests.config_cases import CASES

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)
CTEST_BIN = os.environ.get("HC_CTEST_BIN", os.path.join(PKG_ROOT, "..", "..", "build", "ctest"))


def run_isolated(body, timeout=60):
    """Run Python code in a new interpreter with the binding importable; return its
    stdout parsed as JSON (the code prints one JSON document)."""
    code = "import hc, json, os, sys, time\n" + textwrap.dedent(body)
    env = dict(os.environ, PYTHONPATH=PKG_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=timeout, env=env)
    if p.returncode != 0:
        raise AssertionError("isolated run failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
    return json.loads(p.stdout)


def case_files(tmp, settings, ini):
    path = os.path.join(tmp, "hc.ini")
    if ini is not None:
        with open(path, "w") as f:
            f.write(ini)
    return settings.replace("{INI}", path)


class TestNoInit(unittest.TestCase):
    """What works without hc_init, in this process."""

    def test_version(self):
        v = hc.version()
        self.assertEqual(v["version"], "0.1.0")
        self.assertEqual(v["version_num"], 0x000100)
        self.assertTrue(v["go_version"].startswith("go1."), v)
        self.assertEqual(v["curl_compat"], "7.88.1")

    def test_strerror(self):
        self.assertEqual(hc.strerror(hc.HC_OK), "No error")
        self.assertEqual(hc.strerror(9999), "Unknown hc_code")

    def test_curlerror(self):
        self.assertEqual(hc.curlerror(7), "Couldn't connect to server")
        self.assertEqual(hc.curlerror(-1), "Bad CURL error code")
        self.assertEqual(hc.curlerror(1000), "HTTP result code")

    def test_calls_before_init_raise(self):
        with self.assertRaises(hc.HcError) as cm:
            hc.listcon()
        self.assertEqual(cm.exception.code, hc.HC_E_NOT_INIT)
        with self.assertRaises(hc.HcError):
            hc.query("http://127.0.0.1:1/")

    def test_argument_types(self):
        # The request functions are called without ctypes argtypes (native.py), so the
        # wrappers' conversion is all that stands between a wrong type and the C call.
        wrong = [
            lambda: hc.query(42),
            lambda: hc.http_connect("c", 1.5),
            lambda: hc.http_connect("c", "/", None, 7),
            lambda: hc.query_c("http://127.0.0.1:1/", None, object()),
            lambda: hc.client_get(["http://127.0.0.1:1/"]),
            lambda: hc.request("GET", 3),
            lambda: hc.get_redirect(1),
            lambda: hc.get_content_type(b"c".decode),
            lambda: hc.submit("default", 5),
            lambda: hc.submit("default", "http://127.0.0.1:1/", None, 2.5),
        ]
        for i, call in enumerate(wrong):
            with self.subTest(i=i), self.assertRaises(TypeError):
                call()
        # load()'s own handle keeps its declared argtypes for other callers.
        self.assertEqual(len(hc.load().hc_http_connect.argtypes), 6)
        self.assertEqual(len(hc.load().hc_background_submit.argtypes), 8)


class TestConfigCases(unittest.TestCase):
    """Every configuration case, through ctypes and through C (build/ctest/hcinit)."""

    def check(self, cid, expect, code, message, listing):
        kind, detail = expect
        if kind == "error":
            self.assertEqual(code, hc.HC_E_CONFIG, "%s: expected a refusal, got %d %s" % (cid, code, message))
            for needle in detail:
                self.assertIn(needle, message, "%s: message %r lacks %r" % (cid, message, needle))
            return
        self.assertEqual(code, hc.HC_OK, "%s: %s" % (cid, message))
        conns = {c["name"]: c for c in listing["connections"]}
        for name, fields in detail.items():
            self.assertIn(name, conns, cid)
            for k, v in fields.items():
                self.assertEqual(conns[name][k], v, "%s: %s.%s" % (cid, name, k))
        if not detail:
            self.assertIsInstance(listing["connections"], list)

    def test_python(self):
        for cid, settings, ini, expect in CASES:
            with self.subTest(cid), tempfile.TemporaryDirectory() as tmp:
                text = case_files(tmp, settings, ini)
                out = run_isolated("""
                    try:
                        hc.init(%r)
                        print(json.dumps({"code": 0, "message": "", "listing": hc.listcon()}))
                    except hc.HcError as e:
                        print(json.dumps({"code": e.code, "message": e.message, "listing": None}))
                """ % text)
                self.check(cid, expect, out["code"], out["message"], out["listing"])

    def test_c(self):
        exe = os.path.join(CTEST_BIN, "hcinit")
        if not os.path.exists(exe):
            self.fail("%s is missing: run `make` targets first (make pytest builds it)" % exe)
        for cid, settings, ini, expect in CASES:
            with self.subTest(cid), tempfile.TemporaryDirectory() as tmp:
                sfile = os.path.join(tmp, "settings")
                with open(sfile, "w") as f:
                    f.write(case_files(tmp, settings, ini))
                p = subprocess.run([exe, sfile], capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 0, p.stderr)
                first, _, rest = p.stdout.partition("\n")
                code = int(first.split()[1])
                listing = json.loads(rest) if code == 0 else None
                self.check(cid, expect, code, rest.strip() if code else "", listing)


class TestInit(unittest.TestCase):

    def test_second_init_is_an_error(self):
        out = run_isolated("""
            hc.init("httpcon = c1=>http://127.0.0.1:1/")
            try:
                hc.init("")
                print(json.dumps(0))
            except hc.HcError as e:
                print(json.dumps(e.code))
        """)
        self.assertEqual(out, hc.HC_E_ALREADY_INIT)

    def test_null_settings_mean_defaults(self):
        out = run_isolated("""
            hc.init(None)
            print(json.dumps(hc.listcon()))
        """)
        self.assertEqual(out, {"connections": []})

    def test_crash_log(self):
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "crash.log")
            out = run_isolated("""
                try:
                    hc.init("crash_log = /nonexistent/dir/crash.log")
                    first = 0
                except hc.HcError as e:
                    first = [e.code, e.message]
                hc.init("crash_log = %s\\ngomaxprocs = 1\\nmemory_limit = 64MiB")
                print(json.dumps(first))
            """ % log)
            self.assertEqual(out[0], hc.HC_E_CONFIG)
            self.assertIn("crash_log", out[1])
            self.assertTrue(os.path.exists(log), "crash_log file is opened at hc_init")

    def test_password_masked_and_counters(self):
        out = run_isolated("""
            hc.init([("httpcon", "c1=>http://user:s3cret@127.0.0.1:1/"), ("httpcon", "c2=>http://127.0.0.1:1/")])
            text = json.dumps(hc.listcon())
            print(json.dumps({"leak": "s3cret" in text, "counters": hc.counters()}))
        """)
        self.assertFalse(out["leak"])
        self.assertEqual(out["counters"], {"connections": 2, "connok": 0, "connfail": 0})

    def test_bad_arguments_never_crash(self):
        out = run_isolated("""
            hc.init("httpcon = c1=>http://127.0.0.1:1/x")
            huge = "a" * (1 << 20)
            bad = b"/\\xff\\xfe\\xc3\\x28"
            rets = [
                hc.http_connect("nope").ret,
                hc.http_connect("", "").ret,
                hc.http_connect("c1", huge, None, huge).ret,
                hc.http_connect("c1", bad, bad, bad).ret,
                hc.http_connect(huge).ret,
                hc.query("").ret,
                hc.query(huge, huge, huge).ret,
                hc.query(bad, bad, bad).ret,
                hc.client_get("", None, None).ret,
                hc.request("", "http://127.0.0.1:1/").ret,
                hc.request(bad, huge).ret,
                hc.get_redirect(huge).ret,
                hc.get_content_type("nope").ret,
                hc.query_c(huge, huge, huge, huge).ret,
            ]
            print(json.dumps(rets))
        """)
        self.assertEqual(out[0], -1)
        self.assertEqual(out[1], -1)
        self.assertGreater(out[2], 0)  # a transfer was attempted (connection refused)
        self.assertEqual(out[5], -1)
        self.assertEqual(out[8], -1)
        self.assertEqual(out[9], -1)
        self.assertEqual(out[11], -1)


def _mp_child(q):
    t0 = time.monotonic()
    try:
        hc.listcon()
        q.put(("no error", 0))
    except hc.HcError as e:
        q.put((e.code, time.monotonic() - t0))


class TestFork(unittest.TestCase):
    """After the library is loaded and running, a forked child gets HcError(HC_E_FORKED)
    at once; the children are bounded so that a hang fails the test."""

    def test_os_fork_and_multiprocessing(self):
        out = run_isolated("""
            import multiprocessing, time
            hc.init("httpcon = c1=>http://127.0.0.1:1/x")
            hc.listcon()
            results = []
            for i in range(20):
                r, w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(r)
                    import signal
                    signal.alarm(3)
                    t0 = time.monotonic()
                    try:
                        hc.listcon()
                        code = 0
                    except hc.HcError as e:
                        code = e.code
                    os.write(w, json.dumps([code, time.monotonic() - t0]).encode())
                    os._exit(0)
                os.close(w)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        break
                    time.sleep(0.005)
                else:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                data = os.read(r, 100)
                os.close(r)
                results.append(json.loads(data) if data else ["hung", 0])
            ctx = multiprocessing.get_context("fork")
            sys.path.insert(0, %r)
            from tests.test_hc import _mp_child
            q = ctx.Queue()
            p = ctx.Process(target=_mp_child, args=(q,))
            p.start()
            p.join(10)
            if p.is_alive():
                p.kill()
                mp = ["hung", 0]
            else:
                mp = list(q.get(timeout=5))
            print(json.dumps({"fork": results, "mp": mp, "parent": len(hc.listcon()["connections"])}))
        """ % PKG_ROOT)
        for code, seconds in out["fork"]:
            self.assertEqual(code, hc.HC_E_FORKED)
            self.assertLess(seconds, 0.1)
        self.assertEqual(out["mp"][0], hc.HC_E_FORKED)
        self.assertLess(out["mp"][1], 0.1)  # at once, as with os.fork
        self.assertEqual(out["parent"], 1)

    def test_load_after_fork(self):
        out = run_isolated("""
            ctx_pids = []
            for i in range(8):
                pid = os.fork()
                if pid == 0:
                    import signal
                    signal.alarm(20)
                    hc.init("httpcon = c%d=>http://127.0.0.1:1/" % i)
                    os._exit(0 if hc.listcon()["connections"][0]["name"] == "c%d" % i else 1)
                ctx_pids.append(pid)
            codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in ctx_pids]
            print(json.dumps(codes))
        """)
        self.assertEqual(out, [0] * 8)


if __name__ == "__main__":
    unittest.main()

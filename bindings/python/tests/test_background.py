"""unittest suite for background requests through the binding: Client.background (a
thread waits), await Client.fetch (asyncio, woken through hc_background_fd with
loop.add_reader), Halon's error texts, cancel and shutdown. Each test initialises the
library in a fresh interpreter (hc_init succeeds once per process) against a local
server started by that interpreter."""
import unittest

from tests.test_hc import run_isolated

SERVER = """
import threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        if self.path.startswith("/stall"):
            time.sleep(30)
        body = ("hello " + self.path).encode()
        if self.path.startswith("/404"):
            self.send_response(404)
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test", "yes")
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n)
        body = (self.headers.get("Content-Type", "") + "|").encode() + data
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
threading.Thread(target=srv.serve_forever, daemon=True).start()
BASE = "http://127.0.0.1:%d" % srv.server_address[1]
hc.init('pool = {"id": "default", "max_total": 16, "max_host": 8}\\npool = {"id": "small", "queue": 1}')
"""


class TestBackground(unittest.TestCase):

    def test_background_blocking(self):
        out = run_isolated(SERVER + """
c = hc.Client()
r = c.background(BASE + "/x", {"timeout": 5, "headers": ["X-A: 1"]})
p = c.background(BASE + "/p", None, b"a=1\\x00b")
nf = c.background(BASE + "/404")
refused = c.background("http://127.0.0.1:1/", {"timeout": 5})
print(json.dumps({"status": r.status, "content": r.content.decode(), "hdr": b"X-Test: yes" in r.headers,
                  "url": r.effective_url, "ver": r.http_version, "t": r.timings["total"] >= r.timings["first_byte"] > 0,
                  "post": p.content.decode("latin-1"), "nf": [nf.status, nf.content.decode()],
                  "refused": [refused.error, refused.curl_code, refused.status, refused.as_halon()]}))
""")
        self.assertEqual(out["status"], 200)
        self.assertEqual(out["content"], "hello /x")
        self.assertTrue(out["hdr"])
        self.assertTrue(out["url"].endswith("/x"))
        self.assertEqual(out["ver"], "HTTP/1.1")
        self.assertTrue(out["t"])
        self.assertEqual(out["post"], "application/x-www-form-urlencoded|a=1\x00b")  # binary-safe
        self.assertEqual(out["nf"], [404, "hello /404"])  # any HTTP status is a success
        self.assertEqual(out["refused"], ["Couldn't connect to server", 7, 0, {"error": "Couldn't connect to server"}])

    def test_asyncio_fetch(self):
        out = run_isolated(SERVER + """
import asyncio
async def main():
    c = hc.Client()
    rs = await asyncio.gather(*[c.fetch(BASE + "/n%d" % i, {"timeout": 5}) for i in range(200)])
    slow = asyncio.ensure_future(c.fetch(BASE + "/stall", {"timeout": 0.3}))
    t0 = time.monotonic()
    s = await slow
    return [r.content.decode() for r in rs], s.error, time.monotonic() - t0
contents, err, waited = asyncio.run(main())
print(json.dumps({"ok": contents == ["hello /n%d" % i for i in range(200)], "err": err, "waited": waited}))
""")
        self.assertTrue(out["ok"])
        self.assertEqual(out["err"], "Timeout was reached")
        self.assertGreaterEqual(out["waited"], 0.25)
        self.assertLess(out["waited"], 5)

    def test_errors_queue_cancel_shutdown(self):
        out = run_isolated(SERVER + """
def exc(f):
    try:
        f()
    except hc.HcError as e:
        return [e.code, e.message]
c = hc.Client()
errs = {
  "pool": exc(lambda: hc.submit("nope", BASE)),
  "url": exc(lambda: hc.submit("default", None)),
  "opt": exc(lambda: hc.submit("default", BASE, {"timeout": "x"})),
  "opts": exc(lambda: hc.submit("default", BASE, "timeout=5")),
}
first = hc.submit("small", BASE + "/stall")
errs["full"] = exc(lambda: hc.submit("small", BASE + "/x"))
hc.cancel(first)
cancelled = c.result(first, 5)
errs["cancel_again"] = exc(lambda: hc.cancel(first))
stuck = [c.submit(BASE + "/stall") for _ in range(3)]
hc.shutdown(0.2)
errs["after"] = exc(lambda: c.submit(BASE + "/x"))
outcomes = [c.result(i, 5).outcome for i in stuck]
print(json.dumps({"errs": errs, "cancelled": [cancelled.outcome, cancelled.curl_code], "outcomes": outcomes}))
""")
        e = out["errs"]
        self.assertEqual(e["pool"], [10, "Missing ID in configuration"])
        self.assertEqual(e["url"], [1, "Bad URL parameter"])
        self.assertEqual(e["opt"], [1, "Bad timeout value"])
        self.assertEqual(e["opts"], [1, "Bad options parameter"])
        self.assertEqual(e["full"][0], 11)  # HC_E_QUEUE_FULL, at once
        self.assertEqual(e["cancel_again"][0], 9)  # HC_E_BAD_HANDLE
        self.assertEqual(e["after"][0], 12)  # HC_E_SHUTDOWN
        self.assertEqual(out["cancelled"], [1, 42])  # CANCELLED, curl 42
        self.assertEqual(out["outcomes"], [2, 2, 2])  # SHUT_DOWN

    def test_fork_child_refused(self):
        out = run_isolated(SERVER + """
c = hc.Client()
c.background(BASE + "/warm")
pid = os.fork()
if pid == 0:
    import signal
    signal.alarm(3)
    try:
        hc.submit("default", BASE)
        os._exit(1)
    except hc.HcError as e:
        os._exit(0 if e.code == hc.HC_E_FORKED else 2)
print(json.dumps(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])))
""")
        self.assertEqual(out, 0)


if __name__ == "__main__":
    unittest.main()

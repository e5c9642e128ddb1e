#!/usr/bin/env python3
"""A 2-worker Kamailio 5.6.3 with the http_client module serving SIP requests that each
call http_connect on a kept connection.

  soak.py --module /abs/http_client.so [--requests 1000] [--concurrency 8] [--out F.json]
  soak.py --module http_client.so ...       Debian's own module (libcurl), for comparison

Checks, and exits 1 if one fails:
  - every request gets its SIP reply with the HTTP status 200 (no worker hangs);
  - both workers served requests; the HTTP server saw at most one connection per worker
    (keep_connections = 1);
  - the main process never maps libhc (its /proc/<pid>/maps), nor do the timer processes;
    the SIP workers do;
  - httpclient.listcon and the httpclient counters over the ctl RPC (kamcmd) answer as
    5.6.3's do: the connection is listed, connok = number of requests;
  - Kamailio stops on SIGTERM.
Reports each worker's RSS (VmRSS) before the first request and after the last.
"""
import argparse
import http.server
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

MPATH = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"

# The core part of every configuration here: UDP on loopback only, logs on stderr.
HEAD = """#!KAMAILIO
debug=2
log_stderror=yes
children={children}
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:{sip_port}
mpath="{mpath}"
"""

CFG = HEAD + """
loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "ctl.so"
loadmodule "counters.so"
loadmodule "{module}"

modparam("ctl", "binrpc", "unix:{ctl}")
modparam("http_client", "keep_connections", 1)
modparam("http_client", "connection_timeout", 5)
modparam("http_client", "httpcon", "api=>http://127.0.0.1:{http_port}/api")
{auth_httpcon}

request_route {{
	$var(rc) = http_connect("api", "/call/$ci", "$var(res)");
	append_to_reply("X-Ret: $var(rc)\\r\\nX-Res: $var(res)\\r\\nX-Pid: $pp\\r\\n");
	sl_send_reply("200", "OK");
	exit;
}}
"""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # The status line and the body go out in separate writes: without this, Nagle
        # and delayed ACKs add 40 ms to every kept-alive request.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self.answer(b"ok " + self.path.encode())

    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.answer(b"post " + self.path.encode() + b" " + data)

    def answer(self, body):
        if self.headers.get("X-T"):
            body += b" X-T=" + self.headers["X-T"].encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    connections = 0

    def process_request(self, request, client_address):
        Server.connections += 1
        super().process_request(request, client_address)


def free_port(kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sip_request(port, i, timeout=10.0):
    """Send one MESSAGE; return the reply's headers as a dict, or None on timeout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(timeout)
    lport = s.getsockname()[1]
    msg = ("MESSAGE sip:alice@127.0.0.1 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-soak-%d\r\n"
           "From: <sip:soak@127.0.0.1>;tag=s%d\r\n"
           "To: <sip:alice@127.0.0.1>\r\n"
           "Call-ID: soak-%d\r\n"
           "CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n") % (lport, i, i, i)
    try:
        s.sendto(msg.encode(), ("127.0.0.1", port))
        data = s.recv(65535).decode("utf-8", "replace")
    except socket.timeout:
        return None
    finally:
        s.close()
    return dict(re.findall(r"^([A-Za-z-]+): ?(.*?)\r$", data, re.M))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def private_kib(pid):
    """Memory only this process uses (Private_Clean + Private_Dirty of smaps_rollup):
    unlike RSS, it leaves out the pages shared with the other processes (the kamailio
    binary, libc, Kamailio's shared memory)."""
    with open("/proc/%d/smaps_rollup" % pid) as f:
        text = f.read()
    return sum(int(v) for v in re.findall(r"^Private_(?:Clean|Dirty):\s+(\d+)", text, re.M))


def threads(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"Threads:\s+(\d+)", f.read()).group(1))


def maps_libhc(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libhc" in f.read()


def processes(ctl):
    """core.psx over the ctl socket: [(pid, description)]."""
    out = subprocess.run(["kamcmd", "-s", "unix:" + ctl, "core.psx"], capture_output=True,
                         text=True, timeout=10).stdout
    pids = [int(x) for x in re.findall(r"PID: (\d+)", out)]
    descs = re.findall(r"DSC: (.*)", out)
    return list(zip(pids, descs))


def kamcmd(ctl, *args):
    r = subprocess.run(["kamcmd", "-s", "unix:" + ctl] + list(args), capture_output=True,
                       text=True, timeout=10)
    return (r.stdout + r.stderr).strip()


AUTH_HTTPCON = 'modparam("http_client", "httpcon", "auth=>http://soakuser:s3cret-pw@127.0.0.1:%d/auth")'


def run(module, requests, concurrency, httpd, with_auth=True):
    """One Kamailio run with module; returns (report, failures, work dir). with_auth adds
    a connection with credentials (5.6.3's listcon over-reads or crashes on those,
    shared/spec/kamailio_http_client.md §8, so the baseline runs without it)."""
    work = tempfile.mkdtemp(prefix="hc-kam-soak-")
    Server.connections = 0
    sip_port = free_port()
    ctl = os.path.join(work, "ctl.sock")
    cfg = os.path.join(work, "kamailio.cfg")
    with open(cfg, "w") as f:
        f.write(CFG.format(children=2, sip_port=sip_port, mpath=MPATH, module=module, ctl=ctl,
                           http_port=httpd.server_address[1],
                           auth_httpcon=AUTH_HTTPCON % httpd.server_address[1] if with_auth else ""))
    log = open(os.path.join(work, "kamailio.log"), "w")
    kam = subprocess.Popen(["kamailio", "-f", cfg, "-DD", "-E", "-m", "64", "-M", "16"],
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    failures = []
    report = {"module": module, "requests": requests, "concurrency": concurrency}
    try:
        deadline = time.time() + 20
        while not os.path.exists(ctl) and time.time() < deadline and kam.poll() is None:
            time.sleep(0.1)
        time.sleep(0.5)  # the workers finish child_init after the ctl socket exists
        if kam.poll() is not None:
            failures.append("kamailio exited at start-up (%s); see %s" % (kam.returncode, log.name))
            return report, failures, work
        procs = processes(ctl)
        workers = [p for p, d in procs if d.startswith("udp receiver")]
        timers = [p for p, d in procs if "timer" in d]
        report["processes"] = [{"pid": p, "desc": d} for p, d in procs]
        if len(workers) != 2:
            failures.append("expected 2 SIP workers, core.psx shows %d" % len(workers))
        rss0 = {p: rss_kib(p) for p in workers + [kam.pid]}

        t0 = time.time()
        with ThreadPoolExecutor(concurrency) as pool:
            replies = list(pool.map(lambda i: sip_request(sip_port, i), range(requests)))
        elapsed = time.time() - t0
        missing = sum(r is None for r in replies)
        bad = [r for r in replies if r is not None and r.get("X-Ret") != "200"]
        by_pid = {}
        for r in replies:
            if r:
                by_pid[r.get("X-Pid")] = by_pid.get(r.get("X-Pid"), 0) + 1
        rss1 = {p: rss_kib(p) for p in workers + [kam.pid]}
        private = {p: private_kib(p) for p in workers + [kam.pid]}
        report.update(elapsed_s=round(elapsed, 2), replies=requests - missing, not_200=len(bad),
                      served_by=by_pid, http_connections=Server.connections)
        if missing:
            failures.append("%d requests got no reply within 10 s" % missing)
        if bad:
            failures.append("%d replies without X-Ret 200, e.g. %s" % (len(bad), bad[0]))
        if len(by_pid) != 2:
            failures.append("requests were served by %d workers, not 2" % len(by_pid))
        if Server.connections > len(workers):
            failures.append("HTTP server saw %d connections for %d workers (keep_connections)"
                            % (Server.connections, len(workers)))

        report["module_is_hc"] = bool(workers) and maps_libhc(workers[0])
        report["maps_libhc"] = {"main": maps_libhc(kam.pid),
                                "workers": [maps_libhc(p) for p in workers],
                                "timers": [maps_libhc(p) for p in timers]}
        if report["maps_libhc"]["main"]:
            failures.append("the main process maps libhc")
        if any(report["maps_libhc"]["timers"]):
            failures.append("a timer process maps libhc")
        report["rss_kib"] = {
            "main": {"before": rss0[kam.pid], "after": rss1[kam.pid], "private": private[kam.pid]},
            "workers": [{"pid": p, "before": rss0[p], "after": rss1[p],
                         "growth": rss1[p] - rss0[p], "private": private[p],
                         "threads": threads(p)} for p in workers]}

        listcon = kamcmd(ctl, "httpclient.listcon")
        connok = kamcmd(ctl, "cnt.get", "httpclient", "connok")
        conns = kamcmd(ctl, "cnt.get", "httpclient", "connections")
        report.update(listcon=listcon, connok=connok, connections=conns)
        if "NAME: api" not in listcon or "URI: 127.0.0.1:%d/api" % httpd.server_address[1] not in listcon:
            failures.append("httpclient.listcon does not list api: %r" % listcon)
        if connok.strip() != str(requests - missing - len(bad)):
            failures.append("cnt.get httpclient connok = %r, expected %d" % (connok, requests))
        if conns.strip() != str(1 + with_auth):
            failures.append("cnt.get httpclient connections = %r, expected %d" % (conns, 1 + with_auth))
        # listcon ran in the ctl handler: with libhc, that process loaded it on first use.
        report["rpc_process_maps_libhc"] = [maps_libhc(p) for p, d in procs if "ctl handler" in d]
    finally:
        kam.send_signal(signal.SIGTERM)
        try:
            kam.wait(10)
            report["stopped_on_sigterm"] = True
        except subprocess.TimeoutExpired:
            failures.append("kamailio did not stop within 10 s of SIGTERM")
            os.killpg(kam.pid, signal.SIGKILL)
            kam.wait()
        log.close()
    return report, failures, work


def show(report, failures):
    print("module %s (%s)" % (report["module"], "libhc" if report.get("module_is_hc") else "libcurl"))
    print("  %d requests, %d replies, %d not 200, %.2f s, served by %s, %d HTTP connection(s)" % (
        report["requests"], report.get("replies", 0), report.get("not_200", 0),
        report.get("elapsed_s", 0), report.get("served_by"), report.get("http_connections", 0)))
    print("  libhc mapped: %s; ctl handler after listcon: %s" % (
        report.get("maps_libhc"), report.get("rpc_process_maps_libhc")))
    for w in report.get("rss_kib", {}).get("workers", []):
        print("  worker %d: RSS %d KiB before the first request, %d KiB after the last (+%d KiB);"
              " private %d KiB; %d threads" % (w["pid"], w["before"], w["after"], w["growth"],
                                               w["private"], w["threads"]))
    m = report.get("rss_kib", {}).get("main")
    if m:
        print("  main: RSS %d KiB; private %d KiB" % (m["after"], m["private"]))
    print("  connok=%s connections=%s" % (report.get("connok"), report.get("connections")))
    for f in failures:
        print("  FAIL:", f)


KEMI_CFG = HEAD + """loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "app_jsdt.so"
loadmodule "{module}"
modparam("http_client", "httpcon", "api=>http://127.0.0.1:{http_port}/api")
modparam("app_jsdt", "load", "{script}")
cfgengine "jsdt"
"""

# Every KEMI function of the module, each result into its own variable.
KEMI_JS = """
function ksr_request_route() {
    var base = "http://127.0.0.1:%d";
    var rc = [
        KSR.http_client.curl_connect("api", "/get", "$var(a)"),
        KSR.http_client.curl_connect_post("api", "/post", "text/plain", "hello", "$var(b)"),
        KSR.http_client.query(base + "/q", "$var(c)"),
        KSR.http_client.query_post(base + "/qp", "x=1", "$var(d)"),
        KSR.http_client.query_post_hdrs(base + "/qh", "x=2", "X-T: 1", "$var(e)"),
        KSR.http_client.get_hdrs(base + "/gh", "", "X-T: 2", "$var(f)")];
    var res = ["a", "b", "c", "d", "e", "f"].map(function (v) { return KSR.pv.get("$var(" + v + ")"); });
    KSR.hdr.append_to_reply("X-Rc: " + rc.join(",") + "\\r\\nX-Res: " + res.join("|") + "\\r\\n");
    KSR.sl.sl_send_reply(200, "OK");
}
"""

KEMI_WANT = ("200,200,200,200,200,200",
             "ok /api/get|post /api/post hello|ok /q|post /qp x=1|post /qh x=2 X-T=1|ok /gh X-T=2")


def kemi_check(module, httpd):
    """One SIP request through a JavaScript (app_jsdt) routing script that calls every
    KEMI function of the module. Returns a list of failures."""
    work = tempfile.mkdtemp(prefix="hc-kam-kemi-")
    sip_port = free_port()
    script = os.path.join(work, "route.js")
    with open(script, "w") as f:
        f.write(KEMI_JS % httpd.server_address[1])
    cfg = os.path.join(work, "kamailio.cfg")
    with open(cfg, "w") as f:
        f.write(KEMI_CFG.format(children=1, sip_port=sip_port, mpath=MPATH, module=module, script=script,
                                http_port=httpd.server_address[1]))
    reply = one_reply(cfg, work, sip_port)
    got = reply.get("X-Rc"), reply.get("X-Res")
    print("KEMI (app_jsdt): rc %s, results %s" % got)
    if got != KEMI_WANT:
        return ["KEMI functions: got %s, want %s (log in %s)" % (got, KEMI_WANT, work)]
    shutil.rmtree(work, ignore_errors=True)
    return []


BIND_CFG = HEAD + """loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "pv.so"
loadmodule "{module}"
loadmodule "{bindtest}"
modparam("http_client", "httpcon", "api=>http://127.0.0.1:{http_port}/api")
request_route {{
	bindtest("api", "http://127.0.0.1:{http_port}/q");
	append_to_reply("X-Bt: $var(bt)\\r\\n");
	sl_send_reply("200", "OK");
	exit;
}}
"""

BIND_WANT = "200|ok /api/bind|200|ok /q|200|post /q x=1|1|0|text/plain"


def bind_check(module, bindtest, httpd):
    """One SIP request through a second module (examples/kamailio/test/bindtest.c) that
    calls every function of http_client's C API for other modules (bind_http_client).
    Returns a list of failures."""
    work = tempfile.mkdtemp(prefix="hc-kam-bind-")
    sip_port = free_port()
    cfg = os.path.join(work, "kamailio.cfg")
    with open(cfg, "w") as f:
        f.write(BIND_CFG.format(children=1, sip_port=sip_port, mpath=MPATH, module=module, bindtest=bindtest,
                                http_port=httpd.server_address[1]))
    got = one_reply(cfg, work, sip_port).get("X-Bt")
    print("bind_http_client (bindtest module): %s" % got)
    if got != BIND_WANT:
        return ["bind_http_client API: got %r, want %r (log in %s)" % (got, BIND_WANT, work)]
    shutil.rmtree(work, ignore_errors=True)
    return []


def one_reply(cfg, work, sip_port):
    """Start kamailio on cfg, send one SIP request once it answers, stop it; the reply's
    headers ({} if none came)."""
    log = open(os.path.join(work, "kamailio.log"), "w")
    kam = subprocess.Popen(["kamailio", "-f", cfg, "-DD", "-E"], stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
    reply = None
    try:
        for i in range(50):  # until it answers: start-up takes a moment
            if kam.poll() is not None:
                break
            reply = sip_request(sip_port, 100000 + i, timeout=0.2)
            if reply:
                break
    finally:
        kam.send_signal(signal.SIGTERM)
        try:
            kam.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(kam.pid, signal.SIGKILL)
            kam.wait()
        log.close()
    return reply or {}


def api_entry(listcon):
    """The CONNECTION block of the connection named api in kamcmd's listcon output."""
    m = re.search(r"CONNECTION: \{\n\s*NAME: api\n.*?\}", listcon, re.S)
    return m.group(0) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--baseline", default=os.path.join(MPATH, "http_client.so"),
                    help="a second module to run the same way and compare with ('' = none)")
    ap.add_argument("--bindtest", help="examples/kamailio/test/bindtest.c built: checks bind_http_client")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--out")
    a = ap.parse_args()

    httpd = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    runs = [(a.module,) + run(a.module, a.requests, a.concurrency, httpd)]
    if a.baseline and os.path.exists(a.baseline):
        runs.append((a.baseline,) + run(a.baseline, a.requests, a.concurrency, httpd, False))
    # The KEMI and C-API checks run on both modules: the expected answers are 5.6.3's.
    kemi = []
    for module in [r[0] for r in runs]:
        kemi += kemi_check(module, httpd)
        if a.bindtest:
            kemi += bind_check(module, a.bindtest, httpd)
    httpd.shutdown()

    ok = not kemi
    for f in kemi:
        print("FAIL:", f)
    for module, report, failures, work in runs:
        show(report, failures)
        ok = ok and not failures
        if failures:
            print("  work dir kept:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if len(runs) == 2:
        mine, base = (api_entry(r[1].get("listcon", "")) for r in runs)
        if not mine or mine != base:
            print("FAIL: httpclient.listcon's api entry differs from the baseline's:\n%s\n---\n%s"
                  % (mine, base))
            ok = False
        else:
            print("httpclient.listcon: the api entry is identical to the baseline's")
    listcon = runs[0][1].get("listcon", "")
    if "s3cret-pw" in listcon or "USERNAME: soakuser" not in listcon or "PASSWORD: ***" not in listcon:
        print("FAIL: httpclient.listcon must show the user name and mask the password: %r" % listcon)
        ok = False
    if a.out:
        with open(a.out, "w") as f:
            json.dump([{"report": r, "failures": f} for _, r, f, _ in runs], f, indent=1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

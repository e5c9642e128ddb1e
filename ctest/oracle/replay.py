#!/usr/bin/env python3
"""Replay the Kamailio 5.6.3 http_client oracle through libhc's C ABI (Python binding).

For every scenario of the oracle's scenarios.json this tool builds the hc_init settings from
the scenario's modparams/config_file, makes each call through libhc, records the answer and
the requests the oracle server saw exactly as the oracle's driver.py does, and compares the
record with the oracle's results file using the oracle's own compare.py normalisation.

  replay.py [--only id,...] [--scenarios F] [--results R] [--deviations F] [--out F] [-v]
            [--external-server --certs DIR] [--no-netns] [--keep] [--ordered-headers]

Each scenario runs in its own process (hc_init succeeds once per process): this script
re-runs itself with --child, sends it the prepared scenario on stdin (JSON lines) and reads
one JSON line per answer from its stdout. Every answer is awaited with a deadline; a child
that misses it is killed (its own process group, by pid) and the call is recorded as
"no_reply", a child that dies as "crash".

Without --external-server it makes the certificates with the oracle's mkcerts.sh, re-executes
itself inside `unshare -n` (private network namespace, loopback only) when that works, starts
the oracle's server.py there and kills it by pid at exit. Without a namespace the scenarios
marked needs_netns are skipped and counted as such.

The last output line is "N passed, N failed"; the exit status is 0 iff nothing failed.
Python 3 standard library only, plus the hc binding (bindings/python).
"""
import argparse
import base64
import hashlib
import importlib.util
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ORACLE = os.path.normpath(os.path.join(REPO, "..", "shared", "oracle"))

BASE = 28080  # the oracle server's fixed ports (server.py)
PORTS = {"HTTP": 0, "CLOSED": 1, "HTTPS": 2, "HTTPS_CLIENT": 3, "HTTPS_WRONG": 4,
         "HTTPS_SELF": 5, "HTTPS_TLS12": 6}
CONTROL = "http://127.0.0.1:%d" % (BASE + 9)

# Kamailio's default useragent, stated explicitly as the first setting.
USERAGENT = "kamailio (5.6.3 (x86_64/linux))"

# The pseudo-variable values of the oracle's SIP MESSAGE (README "Scenario format").
PVS = {"ru": "sip:oracle@127.0.0.1:15060", "fu": "sip:driver@127.0.0.1", "rU": "oracle",
       "rd": "127.0.0.1", "rm": "MESSAGE"}
_PV_NAMES = "|".join(sorted(PVS, key=len, reverse=True))
PV_RE = re.compile(r"\$\((%s)\)|\$(%s)(?![A-Za-z0-9_.])" % (_PV_NAMES, _PV_NAMES))

REQUEST_FNS = ("http_connect", "http_connect_raw", "http_client_query", "http_client_get")
KNOWN_FNS = REQUEST_FNS + ("http_get_redirect", "curlerror")

INIT_DEADLINE = 30.0     # seconds for the child to load libhc and answer hc_init
CALL_GRACE = 5.0         # added to a call's "wait" (default 30 s, as in driver.py)
DEFAULT_WAIT = 30.0
EXIT_DEADLINE = 10.0     # for the child to exit after the last call
NETNS_ENV = "HC_REPLAY_IN_NETNS"
ORDERED_FLAG = "--ordered-headers"  # compare.py reads this from sys.argv


# ---------------------------------------------------------------------------------------
# Shared helpers (same rules as the oracle's driver.py)

def subst(obj, ph):
    """Replace {{NAME}} placeholders in every string of obj (driver.py's subst)."""
    if isinstance(obj, str):
        for k, v in ph.items():
            obj = obj.replace("{{%s}}" % k, v)
        return obj
    if isinstance(obj, list):
        return [subst(x, ph) for x in obj]
    if isinstance(obj, dict):
        return {k: subst(v, ph) for k, v in obj.items()}
    return obj


def expand_pvs(s):
    """Expand the documented pseudo-variables ($ru, $(ru), ...) the way Kamailio's format
    strings do for this harness's SIP MESSAGE. Other '$' text is left alone."""
    return PV_RE.sub(lambda m: PVS[m.group(1) or m.group(2)], s)


def normalize_requests(log, conns, cap=20):
    """driver.py's normalize_requests: drop volatile fields; number TCP connections 0,1,..
    in order of first use in the scenario (conns is shared by its calls); at most cap."""
    out = []
    for e in log[:cap]:
        e = dict(e)
        e["conn"] = conns.setdefault(e.pop("conn_id"), len(conns))
        e.pop("client_port", None), e.pop("seq", None)
        out.append(e)
    return out


def atoi(s):
    """C atoi(), as Kamailio parses $curlerror(n)."""
    m = re.match(r"\s*([+-]?\d+)", s or "")
    return int(m.group(1)) if m else 0


def prepare_call(call):
    """The call's (fn, argv) with pseudo-variables expanded where Kamailio expands them:
    url and data of http_connect (not con/content_type; not data of http_connect_raw),
    every argument of http_client_query/http_client_get."""
    fn, args = call["fn"], list(call.get("args", []))
    if fn == "http_connect":
        args = [a if i in (0, 2) else expand_pvs(a) for i, a in enumerate(args)]
    elif fn == "http_connect_raw":
        args = [expand_pvs(a) if i == 1 else a for i, a in enumerate(args)]
    elif fn in ("http_client_query", "http_client_get"):
        args = [expand_pvs(a) for a in args]
    return fn, args


def settings_text(modparams):
    """The hc_init text: Kamailio's default useragent first, then every modparam in order."""
    lines = ["useragent = " + USERAGENT]
    for name, value in modparams:
        if isinstance(value, bool):
            value = int(value)
        lines.append("%s = %s" % (name, value))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# Child: one scenario, one process, one hc_init

def _result_fields(c, value, unset):
    """The result fields exactly as driver.py's parse_reply builds them from Kamailio's
    reply (X-Res-Len / X-Res-Md5 over the full value, body cut to 36000 bytes)."""
    if unset:
        c.update(result_unset=True, result_len=0)
        data = b""
    else:
        c.update(result_unset=False, result_len=len(value))
        data = value
    if "curlerror" in c:  # keep driver.py's key order: ..., curlerror, result_md5
        c["curlerror"] = c.pop("curlerror")
    c["result_md5"] = hashlib.md5(data).hexdigest()
    if len(data) > 36000:
        c["result_truncated_in_reply"] = True
        data = data[:36000]
    if unset:
        c["result"] = None
    elif len(data) <= 4096:
        try:
            c["result"] = data.decode("utf-8")
        except UnicodeDecodeError:
            c["result"], c["result_b64"] = None, base64.b64encode(data).decode()
    else:
        c["result"] = None
        c["result_head"] = data[:64].decode("utf-8", "replace")
    return c


def child_call(hc, fn, argv):
    """Run one prepared call through libhc; return the call fields (without fn/args)."""
    c = {}
    t0 = time.time()
    if fn == "curlerror":  # pseudo-call: $curlerror(<literal>) -> result, no ret
        value = hc.curlerror(atoi(argv[0] if argv else "")).encode("utf-8", "surrogateescape")
        _result_fields(c, value, False)
        c["elapsed_ms"] = int((time.time() - t0) * 1000)
        return c
    unset, value, err = False, b"", None
    try:
        n = len(argv)
        if fn == "http_connect" and n == 2:  # GET
            r = hc.http_connect(argv[0], argv[1])
        elif fn in ("http_connect", "http_connect_raw") and n == 4:
            r = hc.http_connect(argv[0], argv[1], argv[2], argv[3])
        elif fn == "http_client_query" and 1 <= n <= 3:
            r = hc.query(argv[0], argv[1] if n > 1 else None, argv[2] if n > 2 else None)
        elif fn == "http_client_get" and 1 <= n <= 3:
            r = hc.client_get(argv[0], argv[1] if n > 1 else None, argv[2] if n > 2 else None)
        elif fn == "http_get_redirect" and n == 1:
            r = hc.get_redirect(argv[0])
        else:
            raise ValueError("unsupported call %s with %d args" % (fn, n))
        ret = r.ret
        if fn == "http_get_redirect":
            value = r.body  # the effective URL (always assigned)
        elif fn in ("http_client_query", "http_client_get") and argv[0] == "":
            unset = True  # an empty URL returns -1 and leaves the variable untouched
        else:
            value = r.body if r.body_kept else b""  # always assigned, "" when not kept
    except Exception as e:  # HcError for codes outside Kamailio's contract, or a bug
        ret, err = -1, "%s: %s" % (type(e).__name__, e)
        unset = fn in ("http_client_query", "http_client_get") and argv[:1] == [""]
    c["ret"] = ret
    c["curlerror"] = ""
    if fn in REQUEST_FNS and isinstance(ret, int) and 0 <= ret <= 99:
        c["curlerror"] = hc.curlerror(ret)
    _result_fields(c, value, unset)
    if err:
        c["hc_error"] = err
    c["elapsed_ms"] = int((time.time() - t0) * 1000)
    return c


def child_main():
    """--child: read JSON commands from stdin, answer one JSON line each on stdout."""
    proto = os.fdopen(os.dup(1), "w")  # private copy: stray output from the library goes
    os.dup2(2, 1)                      # to stderr instead of corrupting the protocol
    sys.stdout = sys.stderr

    def send(obj):
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    hc = None
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "init":
            try:
                try:
                    import hc as hcmod
                except ImportError:
                    sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
                    import hc as hcmod
                hcmod.load()
                try:
                    ver = hcmod.version().get("version", "?")
                except Exception:
                    ver = "?"
                try:
                    hcmod.init(cmd["settings"])
                except hcmod.HcError as e:
                    status = "config_error" if e.code == hcmod.HC_E_CONFIG else "no_start"
                    send({"event": "init", "status": status, "message": str(e), "version": ver})
                    continue
                hc = hcmod
                send({"event": "init", "status": "ok", "version": ver})
            except Exception as e:
                send({"event": "init", "status": "no_start", "message": "%s: %s" % (type(e).__name__, e)})
        elif cmd["cmd"] == "call":
            if hc is None:
                send({"event": "call", "error": "not initialised"})
                continue
            send({"event": "call", "call": child_call(hc, cmd["fn"], cmd["argv"])})
        elif cmd["cmd"] == "exit":
            break
    proto.close()
    return 0


# ---------------------------------------------------------------------------------------
# Parent: child process handling

class Child:
    """One scenario process. recv() waits for the next JSON line with a deadline."""

    def __init__(self, env, errpath):
        self.err = open(errpath, "w+b")
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, env=env, start_new_session=True)
        self.buf = b""

    def send(self, obj):
        try:
            self.proc.stdin.write((json.dumps(obj) + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def recv(self, timeout):
        """The next message; "timeout" if none came in time; "eof" if the child exited."""
        deadline = time.time() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                return "timeout"
            r, _, _ = select.select([fd], [], [], min(left, 1.0))
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return "eof"
                self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            return {"event": "garbage", "line": line[:200].decode("utf-8", "replace")}

    def kill(self):
        """Kill the child's own process group (created for it), by its pid."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def finish(self):
        self.send({"cmd": "exit"})
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(EXIT_DEADLINE)
        except subprocess.TimeoutExpired:
            self.kill()

    def stderr_lines(self, n=25):
        try:
            self.err.flush()
            self.err.seek(0)
            lines = self.err.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []
        return [l for l in lines if l.strip()][-n:]

    def close(self):
        self.kill()
        for f in (self.proc.stdin, self.proc.stdout, self.err):
            try:
                f.close()
            except (OSError, AttributeError):
                pass


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def control(behaviour=None):
    if behaviour is None:
        return json.load(_OPENER.open(CONTROL + "/log", timeout=10))
    req = urllib.request.Request(CONTROL + "/behaviour", data=json.dumps(behaviour).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    return json.load(_OPENER.open(req, timeout=10))


class Harness:
    def __init__(self, a, certs, netns, workdir, record_ph):
        self.a, self.certs, self.netns, self.work = a, certs, netns, workdir
        self.ph = {k: "127.0.0.1:%d" % (BASE + off) for k, off in PORTS.items()}
        self.ph["CERTS"] = certs
        self.record_ph = record_ph
        self.version = None
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        if not env.get("HC_LIBRARY"):
            lib = os.path.join(REPO, "build", "libhc.so")
            if os.path.exists(lib):
                env["HC_LIBRARY"] = lib
        pp = os.path.join(REPO, "bindings", "python")
        env["PYTHONPATH"] = env["PYTHONPATH"] + os.pathsep + pp if env.get("PYTHONPATH") else pp
        self.env = env
        self.current = None

    def run(self, sc):
        sid = sc["id"]
        rec = {"id": sid}
        wd = os.path.join(self.work, re.sub(r"[^A-Za-z0-9_.-]", "_", sid))
        os.makedirs(wd, exist_ok=True)
        mps = [list(m) for m in sc.get("modparams") or []]
        ph, rph = dict(self.ph), dict(self.record_ph)
        if "config_file" in sc:
            path = os.path.join(wd, "httpcon.ini")
            with open(path, "w") as f:
                f.write(subst(sc["config_file"], ph))
            if not any(m[0] == "config_file" for m in mps):
                mps.append(["config_file", "{{CONFIG_FILE}}"])
            ph["CONFIG_FILE"] = path
            rph.setdefault("CONFIG_FILE", path)
        settings = settings_text(subst(mps, ph))
        with open(os.path.join(wd, "settings.txt"), "w") as f:
            f.write(settings)

        child = self.current = Child(self.env, os.path.join(wd, "child.stderr"))
        try:
            child.send({"cmd": "init", "settings": settings})
            msg = child.recv(INIT_DEADLINE)
            if not isinstance(msg, dict) or msg.get("event") != "init":
                rec.update(status="no_start", log=["child: %s" % (msg if isinstance(msg, str) else json.dumps(msg))]
                           + child.stderr_lines())
                return rec
            self.version = self.version or msg.get("version")
            if msg["status"] != "ok":
                rec.update(status=msg["status"], log=[msg.get("message", "")] + child.stderr_lines())
                return rec

            rec["calls"], conns, notes = [], {}, []
            for call in sc["calls"]:
                fn, argv = prepare_call(subst(call, ph))
                c = {"fn": call["fn"], "args": subst(call.get("args", []), rph)}
                control(subst(call.get("server", sc.get("server", {})), ph))
                t0 = time.time()
                alive = child.send({"cmd": "call", "fn": fn, "argv": argv})
                msg = child.recv(float(call.get("wait", DEFAULT_WAIT)) + CALL_GRACE) if alive else "eof"
                if msg == "timeout":
                    child.kill()
                    c["status"] = "no_reply"
                    notes.append("call %d (%s): no answer within %.0f s; child killed" % (
                        len(rec["calls"]), fn, time.time() - t0))
                elif not isinstance(msg, dict) or "call" not in msg:
                    code = child.proc.poll()
                    child.kill()
                    c["status"] = "crash"
                    notes.append("call %d (%s): child died (exit status %s)" % (len(rec["calls"]), fn, code))
                    if isinstance(msg, dict):
                        c["harness_error"] = msg.get("error") or msg.get("line")
                else:
                    c.update(msg["call"])
                if "elapsed_ms" not in c:
                    c["elapsed_ms"] = int((time.time() - t0) * 1000)
                time.sleep(float(call.get("settle", 0.05)))  # let the server finish logging
                log = control()
                c["requests"] = normalize_requests(log, conns)
                if len(log) > len(c["requests"]):
                    c["requests_total"] = len(log)
                    c["connections_total"] = len({e["conn_id"] for e in log})
                if call["fn"] == "curlerror":
                    c.pop("ret", None), c.pop("curlerror", None)
                rec["calls"].append(c)
                if "status" in c:
                    break  # the process is gone: the remaining calls cannot run
            last = rec["calls"][-1] if rec["calls"] else {}
            rec["status"] = next((c["status"] for c in rec["calls"] if "status" in c), "ok")
            for k in ("ret", "result", "curlerror", "requests"):
                rec[k] = last.get(k)
            if rec["status"] == "ok":
                child.finish()
            rec["log"] = notes + child.stderr_lines()
            return rec
        finally:
            child.close()
            self.current = None


# ---------------------------------------------------------------------------------------
# Parent: comparison and reporting

def load_compare(path):
    spec = importlib.util.spec_from_file_location("oracle_compare", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def diff(cmp, expected, got):
    """compare.py's per-field diff (its main), on its own norm(); plus the call count."""
    A, B = cmp.norm(expected), cmp.norm(got)
    diffs = [("status", A.get("status"), B.get("status"))] if A.get("status") != B.get("status") else []
    ca_list, cb_list = A.get("calls", []), B.get("calls", [])
    for i, (ca, cb) in enumerate(zip(ca_list, cb_list)):
        diffs += [("call%d.%s" % (i, f), ca.get(f), cb.get(f)) for f in sorted(set(ca) | set(cb))
                  if ca.get(f) != cb.get(f)]
    if not diffs and len(ca_list) != len(cb_list):
        diffs.append(("calls", len(ca_list), len(cb_list)))
    return diffs


def refine(diffs):
    """Split a differing "requests" list into per-request, per-key differences (and, for
    headers, only the entries present on one side), so the lines say what differs."""
    out = []
    for f, x, y in diffs:
        if not (f.endswith(".requests") and isinstance(x, list) and isinstance(y, list)):
            out.append((f, x, y))
            continue
        for i, (rx, ry) in enumerate(zip(x, y)):
            if not (isinstance(rx, dict) and isinstance(ry, dict)):
                if rx != ry:
                    out.append(("%s[%d]" % (f, i), rx, ry))
                continue
            for k in sorted(set(rx) | set(ry)):
                vx, vy = rx.get(k), ry.get(k)
                if vx == vy:
                    continue
                if k == "headers" and isinstance(vx, list) and isinstance(vy, list):
                    only_x = [h for h in vx if h not in vy]
                    only_y = [h for h in vy if h not in vx]
                    if only_x or only_y:
                        out.append(("%s[%d].headers(only one side)" % (f, i), only_x, only_y))
                    else:
                        out.append(("%s[%d].headers(order)" % (f, i), vx, vy))
                else:
                    out.append(("%s[%d].%s" % (f, i, k), vx, vy))
        n = min(len(x), len(y))
        if len(x) != len(y):
            def brief(rs):
                return [" ".join(str(r.get(k)) for k in ("listener", "method", "target", "event") if k in r)
                        if isinstance(r, dict) else r for r in rs]
            out.append(("%s[%d:]" % (f, n), brief(x[n:]), brief(y[n:])))
    return out


def fmt_diff(sid, f, x, y):
    return "%s %s: %s != %s" % (sid, f, json.dumps(x)[:200], json.dumps(y)[:200])


def start_server(oracle_dir, certs, workdir):
    logpath = os.path.join(workdir, "server.log")
    logf = open(logpath, "w")
    proc = subprocess.Popen([sys.executable, os.path.join(oracle_dir, "server.py"), "--certs", certs],
                            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    logf.close()
    deadline = time.time() + 15
    while time.time() < deadline:
        with open(logpath, errors="replace") as f:
            text = f.read()
        if proc.poll() is not None:
            raise RuntimeError("server.py exited (%s):\n%s" % (proc.returncode, text[-2000:]))
        if re.search(r"(^|\s)ready\s*$", text, re.M):  # "oracle server ready" (not "already")
            return proc
        time.sleep(0.05)
    stop_server(proc)
    raise RuntimeError("server.py did not print 'ready' within 15 s")


def stop_server(proc):
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def netns_usable():
    """True when `unshare -n` works here and loopback can be brought up inside it."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    try:
        r = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def only_loopback():
    try:
        return sorted(os.listdir("/sys/class/net")) == ["lo"]
    except OSError:
        return False


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Replay the Kamailio http_client oracle through libhc.")
    ap.add_argument("--scenarios", default=os.path.join(ORACLE, "scenarios.json"))
    ap.add_argument("--results", default=os.path.join(ORACLE, "results", "kamailio-5.6.3.json"))
    ap.add_argument("--oracle-dir", default=None,
                    help="where server.py, mkcerts.sh and compare.py are (default: the directory of "
                         "--scenarios if it has them, else %s)" % ORACLE)
    ap.add_argument("--only", help="comma-separated scenario ids")
    ap.add_argument("--external-server", action="store_true",
                    help="use a server.py already listening on ports 28080-28089")
    ap.add_argument("--certs", help="certificate directory of the external server")
    ap.add_argument("--deviations", default=os.path.join(HERE, "deviations.json"))
    ap.add_argument("--out", help="write the records in the oracle's results format")
    ap.add_argument("--no-netns", action="store_true", help="do not use a network namespace")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--ordered-headers", action="store_true",
                    help="compare request headers in wire order (compare.py's option)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    for attr in ("scenarios", "results", "deviations", "out", "certs", "oracle_dir"):
        v = getattr(a, attr)
        if v:
            setattr(a, attr, os.path.abspath(v))
    if not a.oracle_dir:
        d = os.path.dirname(a.scenarios)
        a.oracle_dir = d if os.path.exists(os.path.join(d, "server.py")) else ORACLE
    return a


def main(argv):
    a = parse_args(argv)
    if a.child:
        return child_main()

    # Network namespace: re-execute inside `unshare -n` before anything else is started.
    in_netns = os.environ.get(NETNS_ENV) == "1"
    netns_note = ""
    if a.external_server:
        netns = in_netns or only_loopback()
        if not netns:
            netns_note = "external server, host network: DNS cannot be made to fail locally"
    elif in_netns:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
        netns = True
    elif not a.no_netns and netns_usable():
        env = dict(os.environ, **{NETNS_ENV: "1"})
        sys.stdout.flush(), sys.stderr.flush()
        os.execvpe("unshare", ["unshare", "-n", sys.executable, os.path.abspath(__file__)] + argv, env)
    else:
        netns = False
        netns_note = "--no-netns" if a.no_netns else "unshare -n does not work here"
        print("warning: no network namespace (%s); scenarios marked needs_netns are skipped" % netns_note,
              file=sys.stderr)

    if ORDERED_FLAG not in sys.argv and a.ordered_headers:
        sys.argv.append(ORDERED_FLAG)  # compare.py reads it from sys.argv at import
    cmp = load_compare(os.path.join(a.oracle_dir, "compare.py"))

    scen_doc = json.load(open(a.scenarios))
    scenarios = scen_doc["scenarios"]
    ids = [s["id"] for s in scenarios]
    if a.only:
        want = [x for x in a.only.split(",") if x]
        unknown = [x for x in want if x not in ids]
        if unknown:
            print("error: unknown scenario id(s): %s" % ", ".join(unknown), file=sys.stderr)
            return 2
        scenarios = [s for s in scenarios if s["id"] in want]
    res_doc = json.load(open(a.results))
    expected_all = res_doc.get("results", {})
    deviations = {}
    if a.deviations and os.path.exists(a.deviations):
        deviations = json.load(open(a.deviations))
        if not isinstance(deviations, dict):
            print("error: %s must hold a JSON object {id: reason}" % a.deviations, file=sys.stderr)
            return 2
    dev_name = a.deviations
    if dev_name.startswith(REPO + os.sep):
        dev_name = os.path.relpath(dev_name, REPO)

    work = tempfile.mkdtemp(prefix="hc-oracle-")
    server = None
    harness = None

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    t_start = time.time()
    records = {}
    passed, failed, devs, skipped = [], [], [], []
    no_longer = []
    try:
        if a.external_server:
            certs = a.certs or "/tmp/kam-oracle/certs"
            try:
                control({})
            except (OSError, ValueError) as e:
                print("error: no oracle server on %s (%s)" % (CONTROL, e), file=sys.stderr)
                return 2
        else:
            certs = os.path.join(work, "certs")
            subprocess.run(["sh", os.path.join(a.oracle_dir, "mkcerts.sh"), certs], check=True,
                           stdout=subprocess.DEVNULL)
            try:
                server = start_server(a.oracle_dir, certs, work)
            except RuntimeError as e:
                print("error: %s\n(is another oracle server running? then use --external-server)" % e,
                      file=sys.stderr)
                return 2
        record_ph = {k: "127.0.0.1:%d" % (BASE + off) for k, off in PORTS.items()}
        record_ph["CERTS"] = certs
        record_ph.update(res_doc.get("placeholders", {}))
        harness = Harness(a, certs, netns, work, record_ph)
        if a.verbose:
            print("# %d scenarios, network namespace: %s, work dir %s" % (
                len(scenarios), "yes" if netns else "no", work), flush=True)

        for sc in scenarios:
            sid = sc["id"]
            exp = expected_all.get(sid)
            t0 = time.time()
            if exp is None or exp.get("status") == "skipped":
                why = "no oracle record" if exp is None else "the oracle skipped it"
                skipped.append((sid, why))
                records[sid] = {"id": sid, "status": "skipped", "reason": why}
                print("%s SKIPPED: %s" % (sid, why), flush=True)
                continue
            if sc.get("needs_netns") and not netns:
                why = "needs a private network namespace (%s)" % netns_note
                skipped.append((sid, why))
                records[sid] = {"id": sid, "status": "skipped", "reason": why}
                print("%s SKIPPED: %s" % (sid, why), flush=True)
                continue
            if server is not None and server.poll() is not None:  # restart a dead server once
                print("warning: server.py died (exit %s); restarting it" % server.returncode, file=sys.stderr)
                server = start_server(a.oracle_dir, certs, work)
            try:
                rec = harness.run(sc)
            except (OSError, ValueError) as e:  # the control port failed
                rec = {"id": sid, "status": "harness_error", "log": ["%s: %s" % (type(e).__name__, e)]}
            records[sid] = rec
            diffs = refine(diff(cmp, exp, rec))
            dt = time.time() - t0
            if not diffs:
                passed.append(sid)
                if sid in deviations:
                    no_longer.append(sid)
                    print("%s PASS: deviation no longer needed (listed in %s)" % (sid, dev_name), flush=True)
                elif a.verbose:
                    print("%s PASS (%.1fs)" % (sid, dt), flush=True)
                continue
            if sid in deviations:
                devs.append(sid)
                print("%s DEVIATION (documented): %s" % (sid, deviations[sid]), flush=True)
                if a.verbose:
                    for d in diffs:
                        print("  (deviation) " + fmt_diff(sid, *d), flush=True)
                continue
            failed.append(sid)
            for d in diffs:
                print(fmt_diff(sid, *d), flush=True)
            if rec.get("status") not in ("ok", "config_error") or a.verbose:
                for line in rec.get("log", [])[-10:]:
                    print("  %s| %s" % (sid, line[:300]), flush=True)
    except KeyboardInterrupt as e:
        print("interrupted (%s)" % (e or "SIGINT"), file=sys.stderr)
        failed.append("(interrupted)")
    finally:
        if harness is not None and harness.current is not None:
            harness.current.close()
        stop_server(server)
        if a.keep:
            print("work dir kept: %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    if a.out:
        out = {"kamailio": "libhc %s (replayed by ctest/oracle/replay.py)" % (harness.version if harness else "?"),
               "libcurl4": "", "module": os.environ.get("HC_LIBRARY", "libhc.so"),
               "placeholders": {k: v for k, v in (harness.record_ph if harness else {}).items()
                                if k != "CONFIG_FILE"},
               "results": records}
        os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)

    print("---- %d scenarios in %.0fs" % (len(passed) + len(failed) + len(devs) + len(skipped),
                                          time.time() - t_start))
    if failed:
        print("failed: %s" % " ".join(failed))
    if devs:
        print("documented deviations: %s" % " ".join(devs))
    if no_longer:
        print("deviation no longer needed (remove from %s): %s" % (dev_name, " ".join(no_longer)))
    if skipped:
        print("skipped: %s" % " ".join(s for s, _ in skipped))
    print("deviations: %d (documented in %s), skipped: %d" % (len(devs), dev_name, len(skipped)))
    print("%d passed, %d failed" % (len(passed), len(failed)))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

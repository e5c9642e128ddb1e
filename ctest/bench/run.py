#!/usr/bin/env python3
"""`make bench`: libhc against libcurl, side by side, on one loopback nginx.

Starts nginx (ctest/bench/nginx.conf, its own prefix under build/bench, stopped by pid),
then runs every mode for both drivers interleaved in rounds (hc first in odd rounds, curl
first in even ones), so that the noise of a shared machine falls on both alike. Each run is
a fresh process; its CPU time (user+sys) and peak RSS come from wait4()'s rusage (through
measure.c), the
request rate from the driver's own clock around its request loop. Reports min/median/max
of every figure, compares medians as hc/libcurl, prints the table, writes it into
BENCHMARKS.md (between the bench markers) and draws the ratios with gnuplot.

usage: run.py --hc BIN --curl BIN --lib LIBHC --measure BIN [--rounds N] [--scale F] [--smoke]
       [--md BENCHMARKS.md] [--png FILE] [--json FILE]
--smoke runs every mode once with few requests and only checks that both sides answer
(used by `make test`); it writes nothing.
--pprof MODE[,MODE] runs the hc side of those modes once each, with --hc built against a
library built with -tags hcprofile (`make bench-pprof`), and prints the top of each one's
CPU and allocation profiles.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

POST_BODY = "name=hc&value=" + "x" * 100  # a small form body, as a module would send

# name, path, scheme, driver mode, requests per run, in flight, POST?, targets, and for the
# modes that a `wrk` run repeats, its number of connections (a key of the wrk results).
# Targets: (min req/s ratio hc/curl, max CPU ratio hc/curl), from issue 7.
MODES = [
    dict(name="sync kept /small", scheme="http", path="/small", mode="sync", n=6000, target=(1.1, 1.0), wrk="1"),
    dict(name="sync kept /post", scheme="http", path="/post", mode="sync", n=6000, post=True, target=(1.1, 1.0)),
    dict(name="new conn /small", scheme="http", path="/small", mode="fresh", n=2500, target=(1.0, 1.0)),
    dict(name="background 64", scheme="http", path="/small", mode="multi", n=12000, conc=64, target=(1.2, 1.0), wrk="64"),
    dict(name="background 256", scheme="http", path="/small", mode="multi", n=12000, conc=256, target=(1.3, 1.1), wrk="256"),
    dict(name="sync kept 1 MiB", scheme="http", path="/1m", mode="sync", n=400, target=(1.0, 1.0)),
    dict(name="https kept /small", scheme="https", path="/small", mode="sync", n=5000, target=(1.1, 1.0)),
    dict(name="https new conn", scheme="https", path="/small", mode="fresh", n=400, target=(1.0, 1.0)),
]
RSS_TARGET = 1.3
PY_TARGET_US = 15.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx in its own prefix directory, started as a child and stopped by its pid."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.http_port, self.https_port = free_port(), free_port()
        self.proc = None

    def start(self):
        p = self.prefix
        if os.path.isdir(p):
            shutil.rmtree(p)
        os.makedirs(os.path.join(p, "www"))
        os.makedirs(os.path.join(p, "tmp"))
        os.chmod(p, 0o755)
        with open(os.path.join(p, "www", "small"), "w") as f:
            f.write(("hc bench " * 16)[:127] + "\n")  # 128 bytes
        with open(os.path.join(p, "www", "1m"), "wb") as f:
            f.write(bytes(range(256)) * 4096)  # 1 MiB
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-days", "2", "-keyout", os.path.join(p, "key.pem"), "-out", os.path.join(p, "cert.pem")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(os.path.join(HERE, "nginx.conf")) as f:
            conf = f.read()
        conf = (conf.replace("@PREFIX@", p).replace("@HTTP_PORT@", str(self.http_port))
                .replace("@HTTPS_PORT@", str(self.https_port)))
        with open(os.path.join(p, "nginx.conf"), "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen(["nginx", "-p", p, "-c", os.path.join(p, "nginx.conf"),
                                      "-e", os.path.join(p, "error.log")])
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.http_port), 0.2).close()
                socket.create_connection(("127.0.0.1", self.https_port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise SystemExit("nginx did not start; see " + os.path.join(p, "error.log"))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful; the master ends its worker
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def url(self, scheme, path):
        port = self.http_port if scheme == "http" else self.https_port
        return "%s://127.0.0.1:%d%s" % (scheme, port, path)

    def busy_ns(self):
        """CPU time the workers have used so far, in ns (from /proc/PID/schedstat), or None
        where the kernel does not report it. Read around a run, it tells how busy the run
        kept the server: near 100 % of the run's wall time, the client is as fast as this
        nginx can answer, and its rate is the server's, not its own."""
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                workers = f.read().split()
            total = 0
            for pid in workers:
                with open("/proc/%s/schedstat" % pid) as f:
                    total += int(f.read().split()[0])
            return total if workers else None
        except (OSError, ValueError):
            return None

    @property
    def cafile(self):
        return os.path.join(self.prefix, "cert.pem")


MEASURE = None  # the measure program (measure.c), set by main


def run_measured(argv, env, timeout=300):
    """Runs argv to completion under measure; returns (stdout, CPU seconds, peak RSS KiB)."""
    p = subprocess.run([MEASURE] + argv, env=env, capture_output=True, text=True, timeout=timeout)
    got = re.search(r"measure user_us=(\d+) sys_us=(\d+) maxrss_kib=(\d+)", p.stderr)
    if p.returncode != 0 or not got:
        raise RuntimeError("%s failed (%d): %s %s" % (" ".join(argv), p.returncode, p.stdout.strip(),
                                                       p.stderr.strip()[-500:]))
    return p.stdout, (int(got.group(1)) + int(got.group(2))) / 1e6, int(got.group(3))


class Bench:
    def __init__(self, args, ngx):
        self.args, self.ngx = args, ngx
        self.env = dict(os.environ)
        self.env.pop("BENCH_POST", None)
        self.env["HC_BENCH_CAINFO"] = ngx.cafile
        self.env["CURL_BENCH_CAINFO"] = ngx.cafile
        self.env["HC_LIBRARY"] = args.lib
        self.env["PYTHONPATH"] = os.path.join(ROOT, "bindings", "python")

    def driver(self, side, m, n):
        argv = [self.args.hc if side == "hc" else self.args.curl, m["mode"],
                self.ngx.url(m["scheme"], m["path"]), str(n)]
        if m["mode"] == "multi":
            argv.append(str(m["conc"]))
        env = dict(self.env)
        if m.get("post"):
            env["BENCH_POST"] = POST_BODY
        server0 = self.ngx.busy_ns()
        text, cpu, rss = run_measured(argv, env)
        server1 = self.ngx.busy_ns()
        got = re.search(r"requests ([0-9.]+) s ([0-9.]+) req/s fails=(\d+) bytes=(\d+)", text)
        if not got or int(got.group(3)) != 0:
            raise RuntimeError("%s %s: unexpected output %r" % (side, m["name"], text))
        loop = re.search(r"loop_cpu_us=([0-9.]+)", text)
        # The server's share of the request loop's wall time that it spent on the CPU.
        busy, secs = None, float(got.group(1))
        if server0 is not None and server1 is not None and secs > 0:
            busy = (server1 - server0) / 1e9 / secs * 100
        return dict(rps=float(got.group(2)), cpu_us=cpu * 1e6 / n, rss_kib=rss, bytes=int(got.group(4)),
                    loop_cpu_us=float(loop.group(1)) if loop else None, server_busy=busy)

    def python_overhead(self, n, pythons):
        """Per hc.http_connect call on a kept connection, measured around the request loop
        alone: the C driver's, then each interpreter's, back to back. Returns one dict per
        interpreter: wall and CPU µs of its call and of the C driver's, and what it adds."""
        code = r"""
import sys, time, hc
url = sys.argv[1]; n = int(sys.argv[2])
base, path = url[:url.index("/", 8)], url[url.index("/", 8):]
hc.init("keep_connections = 1\nhttpcon = b=>%s\n" % base)
for _ in range(200):
    hc.http_connect("b", path)
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(n):
    r = hc.http_connect("b", path)
    if r.status != 200: raise SystemExit("status %r" % r.status)
print("%.3f %.3f" % ((time.perf_counter() - t0) * 1e6 / n, (time.process_time() - c0) * 1e6 / n))
"""
        url = self.ngx.url("http", "/small")
        c = self.driver("hc", dict(name="py", scheme="http", path="/small", mode="sync"), n)
        c_us, c_cpu = 1e6 / c["rps"], c["loop_cpu_us"]
        out = {}
        for py in pythons:
            text, _, _ = run_measured([py["path"], "-c", code, url, str(n)], self.env)
            py_us, py_cpu = map(float, text.split())
            out[py["label"]] = dict(py_us=py_us, c_us=c_us, added_us=py_us - c_us, py_cpu=py_cpu, c_cpu=c_cpu,
                                    added_cpu=py_cpu - c_cpu)
        return out

    def wrk(self, conns, seconds):
        url = self.ngx.url("http", "/small")
        out = subprocess.run(["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, url],
                             capture_output=True, text=True, check=True).stdout
        return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))


def select_modes(option, names):
    """The MODES that option's comma-separated names name; an unknown name is an error
    (a typo would otherwise run nothing and say nothing)."""
    names = names.split(",")
    unknown = set(names) - {m["name"] for m in MODES}
    if unknown:
        raise SystemExit("%s: no mode %s (modes: %s)" % (
            option, ", ".join(sorted(unknown)), ", ".join(m["name"] for m in MODES)))
    return [m for m in MODES if m["name"] in names]


def profile(b, modes, scale, outdir, top=25):
    """`make bench-pprof`: the hc side of each mode, once, through the C driver against a
    library built with -tags hcprofile (profile.go), which writes PREFIX.cpu.pprof and
    PREFIX.allocs.pprof at hc_shutdown. Prints the top of each (the allocations by bytes)
    and fails when a profile is missing or does not show the engine. The figures printed
    with it are the profiled run's, slowed by the profiling: not a benchmark."""
    os.makedirs(outdir, exist_ok=True)
    for m in modes:
        prefix = os.path.join(outdir, re.sub(r"[^a-z0-9]+", "-", m["name"]).strip("-"))
        files = {kind: "%s.%s.pprof" % (prefix, kind) for kind in ("cpu", "allocs")}
        for path in files.values():
            if os.path.exists(path):
                os.unlink(path)
        b.env["HC_PPROF"] = prefix
        try:
            r = b.driver("hc", m, max(1, int(m["n"] * scale)))
        finally:
            del b.env["HC_PPROF"]
        n = max(1, int(m["n"] * scale))
        print("pprof %s: %d requests, %.0f req/s, %.1f µs CPU per request (profiled)" % (
            m["name"], n, r["rps"], r["cpu_us"]))
        # The profiler's own work (its buffers, the gzip of the profiles) is left out.
        for kind, index in (("cpu", []), ("allocs", ["-sample_index=alloc_space"])):
            path = files[kind]
            if not os.path.exists(path) or os.path.getsize(path) == 0:
                raise SystemExit("pprof %s: no %s profile at %s" % (m["name"], kind, path))
            out = subprocess.run(["go", "tool", "pprof", "-top", "-nodecount=%d" % top, "-ignore=runtime/pprof"]
                                 + index + [path], capture_output=True, text=True)
            if out.returncode != 0 or "hcproject/hc/engine." not in out.stdout:
                raise SystemExit("pprof %s: the %s profile does not show the engine: %s%s" % (
                    m["name"], kind, out.stdout[-2000:], out.stderr[-2000:]))
            total = re.search(r"of ([0-9.]+)(B|kB|MB|GB) total", out.stdout)
            if kind == "allocs" and total:
                scaled = float(total.group(1)) * {"B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[total.group(2)]
                print("allocated: %.0f bytes per request (sampled, start-up included)" % (scaled / n))
            print("== %s (%s)\n%s" % (kind, path, out.stdout))


def pythons():
    """The interpreters the binding is measured on: the one running this script and, when
    it is another build, the system's /usr/bin/python3 (Debian's, which `make deps`
    installs). The interpreter's own build moves a call's cost by several µs: through
    pyenv's default build (libpython.so, no profile-guided optimisation) cold_call.py's
    call takes 4.3 µs hot and 15.4 µs after a 50 µs pause, through Debian's statically
    linked python3 2.2 and 7.5 µs. So the binding is measured on each."""
    found, seen = [], set()
    for path in (sys.executable, "/usr/bin/python3"):
        if not path or not os.path.exists(path) or os.path.realpath(path) in seen:
            continue
        seen.add(os.path.realpath(path))
        info = subprocess.run([path, "-c", "import ctypes, sys, sysconfig; print(sys.version.split()[0]); "
                               "print('--enable-optimizations' in (sysconfig.get_config_var('CONFIG_ARGS') or ''))"],
                              capture_output=True, text=True)
        if info.returncode != 0:
            continue
        version, pgo = info.stdout.split()
        ldd = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        linked = "libpython.so" if "libpython" in ldd else "static"
        found.append(dict(path=path, label="Python %s, `%s` (%s%s)" % (
            version, path, linked, ", `--enable-optimizations`" if pgo == "True" else "")))
    return found


def stats(xs):
    return dict(min=min(xs), med=statistics.median(xs), max=max(xs))


def side_stats(runs):
    """One side's figures over the rounds of a mode; server_busy is None where the kernel
    did not report nginx's CPU time."""
    out = {k: stats([x[k] for x in runs]) for k in ("rps", "cpu_us", "rss_kib")}
    busy = [x["server_busy"] for x in runs if x["server_busy"] is not None]
    out["server_busy"] = stats(busy) if busy else None
    return out


def machine_note():
    load = open("/proc/loadavg").read().split()[:3]
    top = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True).stdout
    busy = [l.split(None, 1) for l in top.splitlines()[1:6]]
    busy = ["%s (%s%%)" % (c.strip(), p) for p, c in busy if float(p) >= 5]
    return "load average %s; busiest processes: %s" % (" ".join(load), ", ".join(busy) or "none above 5%")


def versions(args):
    curl = subprocess.run(["curl-config", "--version"], capture_output=True, text=True).stdout.strip()
    ngx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().replace("nginx version: ", "")
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].split(" [")[0]
    go = subprocess.run([os.environ.get("GO", "go"), "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    gcc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return dict(libcurl=curl, nginx=ngx, wrk=wrk.replace("wrk ", ""), go=go, gcc=gcc, python=platform.python_version(),
                kernel=platform.release(), cpu=cpu, cores=os.cpu_count())


def fmt_rate(s):
    return "%.0f (%.0f–%.0f)" % (s["med"], s["min"], s["max"])


def fmt_busy(pct):
    return "n/a" if pct is None else "%.0f %%" % pct


def verdict(ok):
    return "met" if ok else "**missed**"


def report(res, meta):
    """The markdown table and the notes under it."""
    lines = []
    lines.append("| mode | hc req/s median (min–max) | libcurl req/s median (min–max) | **hc/libcurl** | "
                 "hc CPU µs/req | libcurl CPU µs/req | CPU hc/libcurl | hc peak RSS MiB | libcurl peak RSS MiB | "
                 "RSS hc/libcurl | nginx busy (hc, libcurl) | target (req/s, CPU) | verdict |")
    lines.append("|" + "---|" * 13)
    rows = []
    for m in MODES:
        r = res["modes"][m["name"]]
        h, c = r["hc"], r["curl"]
        ratio = h["rps"]["med"] / c["rps"]["med"]
        cpu_ratio = h["cpu_us"]["med"] / c["cpu_us"]["med"]
        rss_ratio = h["rss_kib"]["med"] / c["rss_kib"]["med"]
        ok = ratio >= m["target"][0] and cpu_ratio <= m["target"][1] and rss_ratio <= RSS_TARGET
        rows.append((m["name"], ratio, cpu_ratio, rss_ratio))
        cpu_t = "≤ libcurl" if m["target"][1] == 1.0 else "≤ %.1f×" % m["target"][1]
        busy = ", ".join(fmt_busy(x["server_busy"]["med"] if x.get("server_busy") else None) for x in (h, c))
        lines.append("| %s | %s | %s | **%.2f×** | %.1f | %.1f | %.2f× | %.1f | %.1f | %.2f× | %s | ≥ %.1f×, %s | %s |" % (
            m["name"], fmt_rate(h["rps"]), fmt_rate(c["rps"]), ratio, h["cpu_us"]["med"], c["cpu_us"]["med"],
            cpu_ratio, h["rss_kib"]["med"] / 1024, c["rss_kib"]["med"] / 1024, rss_ratio, busy, m["target"][0],
            cpu_t, verdict(ok)))
    lines.append("")
    lines.append("Python binding, per `hc.http_connect` call on a kept connection (`/small`), measured "
                 "around the request loop of the C driver and of a Python process on each interpreter, back to "
                 "back in each round (medians of the per-round differences, min–max in brackets; target ≤ %.0f µs):"
                 % PY_TARGET_US)
    lines.append("")
    lines.append("| interpreter | per call | Python | C driver | added by the binding | verdict |")
    lines.append("|---|---|---|---|---|---|")
    for label, py in res["python"].items():
        for what, unit in (("CPU (process user+sys, all threads)", "cpu"), ("wall time", "us")):
            added = py["added_" + unit]
            lines.append("| %s | %s | %.1f µs | %.1f µs | **%.1f µs** (%.1f–%.1f) | %s |" % (
                label, what, py["py_" + unit]["med"], py["c_" + unit]["med"], added["med"], added["min"],
                added["max"], verdict(added["med"] <= PY_TARGET_US)))
    w = res["wrk"]
    lines.append("")
    lines.append("Ceiling (`wrk -t1` on the same nginx, `/small` over http): " + ", ".join(
        "%s connections %s req/s" % (k, fmt_rate(v)) for k, v in sorted(w.items(), key=lambda kv: int(kv[0]))) + ".")
    lines.append("")
    lines.append("The same server's rate for a lean client: the modes that `wrk` repeats (http `/small`, as many "
                 "connections as requests in flight), each client's median as a share of `wrk`'s, and `wrk`/libcurl, "
                 "the ratio that a client as fast as `wrk` would show:")
    lines.append("")
    lines.append("| mode | `wrk` req/s | hc / `wrk` | libcurl / `wrk` | `wrk` / libcurl | target |")
    lines.append("|---|---|---|---|---|---|")
    for m in MODES:
        if "wrk" not in m:
            continue
        r, top = res["modes"][m["name"]], w[m["wrk"]]["med"]
        hc_rate, curl_rate = r["hc"]["rps"]["med"], r["curl"]["rps"]["med"]
        lines.append("| %s | %.0f | %.0f %% | %.0f %% | %.2f× | ≥ %.1f× |" % (
            m["name"], top, hc_rate / top * 100, curl_rate / top * 100, top / curl_rate, m["target"][0]))
    lines.append("")
    lines.append("nginx busy: the CPU time nginx's worker used during a driver's request loop (its "
                 "`/proc/PID/schedstat`), as a share of the loop's wall time; median of the rounds. Near 100 %, "
                 "the client keeps the one worker saturated: its rate is the server's, and so is the "
                 "ratio's ceiling.")
    return lines, rows


def write_outputs(args, res, meta):
    lines, rows = report(res, meta)
    v = meta["versions"]
    head = [
        "<!-- bench:begin (written by ctest/bench/run.py; edit outside the markers) -->",
        "## Latest run",
        "",
        "`%s` — %s, %d rounds, modes interleaved (hc and libcurl alternate which runs first)." % (
            meta["command"], meta["date"], meta["rounds"]),
        "",
        "Versions: hc %s (Go %s, `gomaxprocs` 2), %s (Debian, OpenSSL), %s (1 worker), wrk %s, "
        "gcc %s, Python %s (runs the script), Linux %s, %s × %d." % (meta["hc_version"], v["go"], v["libcurl"], v["nginx"], v["wrk"],
                                                  v["gcc"], v["python"], v["kernel"], v["cpu"], v["cores"]),
        "",
        "Machine during the run: %s (before); %s (after)." % (meta["machine_before"], meta["machine_after"]),
        "",
    ]
    tail = [
        "",
        "![hc/libcurl ratios](ctest/bench/ratios.png)",
        "",
        "Requests per run: " + ", ".join("%s %d" % (m["name"], m["n"] * meta["scale"]) for m in MODES) +
        ". req/s is each driver's own clock around its request loop; CPU is the whole process "
        "(user+sys from `wait4`, through `ctest/bench/measure.c`, start-up and `hc_init`/`curl_global_init` included) divided by the "
        "requests; peak RSS is the process's `ru_maxrss`. A process that starts, initialises and makes one request uses "
        "%.1f ms CPU and %.1f MiB (hc) vs %.1f ms and %.1f MiB (libcurl)." % (
            res["startup"]["hc"]["cpu_ms"]["med"], res["startup"]["hc"]["rss_kib"]["med"] / 1024,
            res["startup"]["curl"]["cpu_ms"]["med"], res["startup"]["curl"]["rss_kib"]["med"] / 1024),
        "<!-- bench:end -->",
    ]
    block = "\n".join(head + lines + tail) + "\n"
    print("\n".join(lines))
    md = args.md
    text = open(md).read() if os.path.exists(md) else "# Benchmarks: hc against libcurl\n\n"
    b, e = text.find("<!-- bench:begin"), text.find("<!-- bench:end -->")
    if b >= 0 and e > b:
        text = text[:b] + block + text[e + len("<!-- bench:end -->\n"):]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    with open(md, "w") as f:
        f.write(text)
    with open(args.json, "w") as f:
        json.dump(dict(meta=meta, results=res), f, indent=1)
    chart(args.png, rows)


def chart(png, rows):
    data = tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False)
    for name, ratio, cpu, rss in rows:
        data.write('"%s" %.3f %.3f %.3f\n' % (name, ratio, 1 / cpu, 1 / rss))
    data.close()
    script = """
set terminal pngcairo size 1100,520 font ",10"
set output '%s'
set title 'hc / libcurl (medians of the same run; above 1 = hc better)'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:*]
set grid ytics
set xtics rotate by -25
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 dt 2 lc rgb 'black'
plot '%s' using 2:xtic(1) title 'req/s hc/libcurl', '' using 3 title 'CPU per request libcurl/hc', \
     '' using 4 title 'peak RSS libcurl/hc'
""" % (png, data.name)
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:  # gnuplot-nox without cairo: the plain png terminal
        r = subprocess.run(["gnuplot"], input=script.replace("pngcairo", "png"), text=True, capture_output=True)
    os.unlink(data.name)
    if r.returncode != 0:
        print("gnuplot failed: " + r.stderr, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hc", required=True)
    ap.add_argument("--curl", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--measure", required=True, help="the measure program (ctest/bench/measure.c)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every mode's request count")
    ap.add_argument("--only", default="", help="comma-separated mode names (for tuning; writes nothing)")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--pprof", default="", help="comma-separated mode names: profile hc's side "
                    "(--hc linked against a -tags hcprofile library); prints the top of each profile")
    ap.add_argument("--valgrind", default="", help="with --smoke: also run hc_bench on the 1 MiB body "
                    "(read in place into the C result) under this command, sync and background")
    ap.add_argument("--md", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--png", default=os.path.join(HERE, "ratios.png"))
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "bench", "results.json"))
    args = ap.parse_args()
    global MEASURE
    MEASURE = args.measure
    if args.rounds < 7 and not (args.smoke or args.only or args.pprof):
        raise SystemExit("at least 7 rounds (the machine is noisy: medians need them)")

    ngx = Nginx(os.path.join(ROOT, "build", "bench", "nginx"))
    ngx.start()
    try:
        b = Bench(args, ngx)
        modes = MODES
        if args.pprof:
            profile(b, select_modes("--pprof", args.pprof), args.scale, os.path.join(ROOT, "build", "pprof", "out"))
            return
        if args.only:
            modes = select_modes("--only", args.only)
        if args.smoke:
            for m in MODES:
                for side in ("hc", "curl"):
                    r = b.driver(side, m, 20 if m["mode"] != "multi" else 300)
                    print("smoke %-18s %-4s %8.0f req/s %7.1f µs CPU/req  %d bytes" % (
                        m["name"], side, r["rps"], r["cpu_us"], r["bytes"]))
            for label, r in b.python_overhead(50, pythons()).items():
                print("smoke python %.1f µs/call (C %.1f), CPU %.1f µs/call (C %.1f): %s" % (
                    r["py_us"], r["c_us"], r["py_cpu"], r["c_cpu"], label))
            if args.valgrind:
                for argv in (["sync", ngx.url("http", "/1m"), "5"], ["multi", ngx.url("http", "/1m"), "12", "4"],
                             ["sync", ngx.url("https", "/1m"), "3"]):
                    p = subprocess.run(args.valgrind.split() + [args.hc] + argv, env=b.env, capture_output=True,
                                       text=True, timeout=600)
                    if p.returncode != 0 or "bytes=%d" % (int(argv[2]) << 20) not in p.stdout:
                        raise SystemExit("valgrind %s: %d %s %s" % (" ".join(argv), p.returncode, p.stdout,
                                                                      p.stderr[-3000:]))
                    print("smoke valgrind %s: %s" % (" ".join(argv[:1] + argv[2:]), p.stdout.strip()))
            return
        before = machine_note()
        raw = {m["name"]: {"hc": [], "curl": []} for m in modes}
        start = {"hc": [], "curl": []}
        pyraw, interpreters = [], pythons()
        wrkraw = {m["wrk"]: [] for m in MODES if "wrk" in m}  # connections -> req/s per round
        for rnd in range(args.rounds):
            order = ("hc", "curl") if rnd % 2 == 0 else ("curl", "hc")
            for m in modes:
                n = max(1, int(m["n"] * args.scale))
                for side in order:
                    raw[m["name"]][side].append(b.driver(side, m, n))
            if args.only:
                for m in modes:
                    h, c = raw[m["name"]]["hc"][-1], raw[m["name"]]["curl"][-1]
                    print("round %d %-18s hc %8.0f req/s %6.1f µs  curl %8.0f req/s %6.1f µs  ratio %.2f cpu %.2f"
                          "  nginx busy %s / %s" % (
                              rnd + 1, m["name"], h["rps"], h["cpu_us"], c["rps"], c["cpu_us"], h["rps"] / c["rps"],
                              h["cpu_us"] / c["cpu_us"], fmt_busy(h["server_busy"]), fmt_busy(c["server_busy"])),
                          flush=True)
                continue
            for side in order:
                z = b.driver(side, dict(name="start", scheme="http", path="/small", mode="multi", conc=1), 1)
                start[side].append(dict(cpu_ms=z["cpu_us"] / 1e3, rss_kib=z["rss_kib"]))
            pyraw.append(b.python_overhead(int(3000 * args.scale), interpreters))
            for k in wrkraw:
                wrkraw[k].append(b.wrk(int(k), 1))
            print("round %d/%d done (%s)" % (rnd + 1, args.rounds, time.strftime("%H:%M:%S")), flush=True)
        res = {"modes": {}}
        for name, sides in raw.items():
            res["modes"][name] = {s: side_stats(runs) for s, runs in sides.items()}
        if args.only:
            for name, sides in res["modes"].items():
                h, c = sides["hc"], sides["curl"]
                print("median %-18s hc/curl req/s %.2f  cpu %.2f (hc %.1f µs, curl %.1f µs)  rss %.2f" % (
                    name, h["rps"]["med"] / c["rps"]["med"], h["cpu_us"]["med"] / c["cpu_us"]["med"],
                    h["cpu_us"]["med"], c["cpu_us"]["med"], h["rss_kib"]["med"] / c["rss_kib"]["med"]))
            return
        res["startup"] = {s: {k: stats([x[k] for x in runs]) for k in ("cpu_ms", "rss_kib")} for s, runs in start.items()}
        res["python"] = {py["label"]: {k: stats([x[py["label"]][k] for x in pyraw])
                                       for k in ("py_us", "c_us", "added_us", "py_cpu", "c_cpu", "added_cpu")}
                         for py in interpreters}
        res["wrk"] = {k: stats(v) for k, v in wrkraw.items()}
        hcver = subprocess.run([sys.executable, "-c", "import hc; print(hc.version()['version'])"], env=b.env,
                               capture_output=True, text=True).stdout.strip()
        meta = dict(command="make bench" + (" BENCH_ARGS='%s'" % os.environ["BENCH_ARGS"]
                                            if os.environ.get("BENCH_ARGS") else ""),
                    date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    rounds=args.rounds, scale=args.scale, versions=versions(args), hc_version=hcver,
                    machine_before=before, machine_after=machine_note())
        write_outputs(args, res, meta)
    finally:
        ngx.stop()


if __name__ == "__main__":
    main()

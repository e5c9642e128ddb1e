#!/usr/bin/env python3
"""Compare a run of the Halon oracle through libhc with the recorded plugin behaviour.

  compare.py [--expected R] [--got G] [--deviations D] [--only id,...] [--ordered-headers]

Uses shared/oracle/halon/compare.py's own normalisation (loaded, not copied). A differing
scenario listed in deviations.json (a designed difference, with its reason) is reported
apart from the failures. The last line is "N passed, N failed"; exit 1 if any failed.
"""
import argparse
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "oracle", "halon"))


def load_compare(path):
    spec = importlib.util.spec_from_file_location("halon_compare", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def diffs(cmp, ra, rb):
    A, B = cmp.norm(ra), cmp.norm(rb)
    out = []
    for f in ("run", "requests_total"):
        if A.get(f) != B.get(f):
            out.append((f, A.get(f), B.get(f)))
    for f in sorted(set(A["result"]) | set(B["result"])):
        if A["result"].get(f) != B["result"].get(f):
            out.append(("result." + f, A["result"].get(f), B["result"].get(f)))
    if len(A["requests"]) != len(B["requests"]):
        out.append(("requests.count", len(A["requests"]), len(B["requests"])))
    for i, (qa, qb) in enumerate(zip(A["requests"], B["requests"])):
        for f in sorted(set(qa) | set(qb)):
            if qa.get(f) != qb.get(f):
                out.append(("requests[%d].%s" % (i, f), qa.get(f), qb.get(f)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", default=ORACLE)
    ap.add_argument("--expected", help="default: <oracle>/results/halon-emu.json")
    ap.add_argument("--got", required=True)
    ap.add_argument("--deviations", default=os.path.join(HERE, "deviations.json"))
    ap.add_argument("--only")
    ap.add_argument("--ordered-headers", action="store_true")
    a = ap.parse_args()
    if a.ordered_headers:
        sys.argv.append("--ordered-headers")  # read by the oracle's compare module at import
    cmp = load_compare(os.path.join(a.oracle, "compare.py"))
    expected = json.load(open(a.expected or os.path.join(a.oracle, "results", "halon-emu.json")))["results"]
    got = json.load(open(a.got))["results"]
    deviations = json.load(open(a.deviations)) if os.path.exists(a.deviations) else {}
    only = set(a.only.split(",")) if a.only else None
    passed = failed = deviated = 0
    not_run = []
    for sid, ra in expected.items():
        if only and sid not in only:
            continue
        rb = got.get(sid)
        if rb is None:  # a partial run (--only): reported, never counted as passed
            not_run.append(sid)
            continue
        d = diffs(cmp, ra, rb)
        if not d:
            passed += 1
            if sid in deviations:
                print("%s: passes; deviation no longer needed" % sid)
            continue
        if sid in deviations:
            deviated += 1
            print("%s: DEVIATION (designed): %s" % (sid, deviations[sid]))
            for f, x, y in d:
                print("    %s: %s != %s" % (f, json.dumps(x)[:160], json.dumps(y)[:160]))
            continue
        failed += 1
        for f, x, y in d:
            print("%s %s: %s != %s" % (sid, f, json.dumps(x)[:200], json.dumps(y)[:200]))
    if not_run:
        print("not run (absent from %s): %d: %s" % (a.got, len(not_run), ",".join(not_run)[:300]))
    print("deviations: %d (designed, listed in %s)" % (deviated, os.path.relpath(a.deviations)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

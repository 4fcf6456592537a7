#!/usr/bin/env python3
"""Instructions per request end to end, under valgrind --tool=callgrind.

usage: callgrind.py DRIVER OUTDIR [--handwritten DRIVER2] [--consoles 10,200,10000]
                   [--requests 4096,36864]

For every console count the fixed workload of tapiq-cg-driver runs twice, with
two request counts N1 < N2. (Ir(N2) - Ir(N1)) / (N2 - N1) is the cost of one
request (issue, dispatch, backend apply, reply, reap) with setup and shutdown
cancelled out; the same difference per function (callgrind_annotate,
exclusive counts) says where those instructions go. Callgrind counts are
repeatable: they do not depend on the machine's load.
--handwritten: the same workload on the hand-written baseline dispatcher
(tapiq-cg-handwritten, bench/handwritten.c); its functions hw_* live in the
driver's executable and count as the dispatcher, the rest of the executable
(main) as the driver.
Each run also goes through cachegrind (simulated caches of fixed sizes: D1
32 KiB 8-way, LL 4 MiB 16-way, 64-byte lines): data-cache misses per request,
the same difference, where a lamp's request touches lines a machine has to
fetch (the instruction count does not see them).
Writes OUTDIR/callgrind.json (function names and object basenames only; for
source-line detail run callgrind_annotate --auto=yes on a build with -g).
"""
import argparse
import json
import os
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s*$")


def annotate(outfile):
    txt = subprocess.run(
        ["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=no", outfile],
        check=True, capture_output=True, text=True).stdout
    total, fns, objs = 0, {}, {}
    for line in txt.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        what = m.group(2)
        if what.startswith("PROGRAM TOTALS"):
            total = ir
            continue
        # "file:function [object]" -> "function (object basename)"
        obj = ""
        mo = re.match(r"^(.*?)\s+\[(.*)\]$", what)
        if mo:
            what, obj = mo.group(1), os.path.basename(mo.group(2))
        # With debug info, code inlined from a header shows as "header:fn"
        # without an object: count it under its function.
        fn = what.split(":", 1)[1] if ":" in what else what
        if obj:
            objs[fn] = obj
        fns[fn] = fns.get(fn, 0) + ir
    named = {}
    for fn, ir in fns.items():
        key = fn + (" (" + objs[fn] + ")" if fn in objs else "")
        named[key] = named.get(key, 0) + ir
    return total, named, txt


def run(driver, outdir, consoles, n, mode):
    out = os.path.join(outdir, "callgrind.out.%s.%d.%d.%s"
                       % (os.path.basename(driver), consoles, n, mode))
    r = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, driver,
         str(consoles), str(n), mode],
        capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit("driver failed under callgrind (%d consoles, %d requests)" % (consoles, n))
    total, fns, _ = annotate(out)
    os.unlink(out)
    return total, fns, r.stdout.strip()


CACHE = ["--D1=32768,8,64", "--I1=32768,8,64", "--LL=4194304,16,64"]


def cache_run(driver, outdir, consoles, n, mode):
    """Data-cache misses of one run under cachegrind's simulated caches (the
    same sizes on every machine): (D1 misses, LL misses), reads + writes."""
    out = os.path.join(outdir, "cachegrind.out.%s.%d.%d.%s"
                       % (os.path.basename(driver), consoles, n, mode))
    r = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=yes"] + CACHE +
                       ["--cachegrind-out-file=" + out, driver, str(consoles), str(n), mode],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise SystemExit("driver failed under cachegrind (%d consoles, %d requests)" % (consoles, n))
    txt = subprocess.run(["cg_annotate", out], check=True, capture_output=True, text=True).stdout
    os.unlink(out)
    ev, tot = None, None
    for line in txt.splitlines():
        if line.startswith("Events recorded:"):
            ev = line.split(":", 1)[1].split()
        if "PROGRAM TOTALS" in line:
            tot = [int(x.replace(",", "")) for x in re.findall(r"([\d,]+) \(", line)]
    v = dict(zip(ev, tot))
    return v["D1mr"] + v["D1mw"], v["DLmr"] + v["DLmw"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("driver")
    ap.add_argument("outdir")
    ap.add_argument("--handwritten", help="the baseline's driver (tapiq-cg-handwritten)")
    ap.add_argument("--consoles", default="10,200,10000")
    ap.add_argument("--requests", default="4096,36864")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    n1, n2 = (int(x) for x in a.requests.split(","))
    res = {"requests": [n1, n2], "runs": []}
    drivers = [("tapiq", a.driver)]
    if a.handwritten:
        drivers.append(("handwritten", a.handwritten))
    for impl, driver, c, mode in ((i, d, int(x), m) for i, d in drivers
                                  for x in a.consoles.split(",") for m in ("single", "bulk")):
        t1, f1, s1 = run(driver, a.outdir, c, n1, mode)
        t2, f2, s2 = run(driver, a.outdir, c, n2, mode)
        per = (t2 - t1) / (n2 - n1)
        top = []
        for k in set(f1) | set(f2):
            d = (f2.get(k, 0) - f1.get(k, 0)) / (n2 - n1)
            if abs(d) >= 0.5:
                top.append({"function": k, "ir_per_request": round(d, 1)})
        top.sort(key=lambda e: -e["ir_per_request"])
        # The driver's own loop is not the library's cost (the baseline's
        # hw_* functions, linked into its driver, are).
        drv = sum(e["ir_per_request"] for e in top
                  if e["function"].endswith("(" + os.path.basename(driver) + ")")
                  and not (impl == "handwritten" and e["function"].startswith("hw_")))
        d1a, lla = cache_run(driver, a.outdir, c, n1, mode)
        d1b, llb = cache_run(driver, a.outdir, c, n2, mode)
        res["runs"].append({"impl": impl, "consoles": c, "reap": mode, "ir_total": [t1, t2],
                            "d1_miss_per_request": round((d1b - d1a) / (n2 - n1), 2),
                            "ll_miss_per_request": round((llb - lla) / (n2 - n1), 2),
                            "ir_per_request": round(per, 1),
                            "ir_per_request_library": round(per - drv, 1),
                            "driver_stats": [s1, s2], "functions": top})
        print("%s, %6d consoles, %s reap: %.1f instructions per request (%.1f without the driver),"
              " %.2f D1 / %.2f LL misses" % (impl, c, mode, per, per - drv, (d1b - d1a) / (n2 - n1),
                                             (llb - lla) / (n2 - n1)))
        for e in top[:15]:
            print("    %8.1f  %s" % (e["ir_per_request"], e["function"]))
    with open(os.path.join(a.outdir, "callgrind.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Check that the libraries export exactly the documented API.

usage: check_abi.py --headers H... --map tapiq.map [--shared LIB.so] [--static LIB.a]
                    [--nm NM] [--node TAPIQ_0]

The documented API is every function declared TAPIQ_API in the public headers.
The version script must list exactly those as global in its node; the shared
library must export exactly those (nm -D), each with that node as its default
version (name@@NODE); the static library must define exactly those as global
symbols (nm -g): everything else is local. Prints each mismatch; exit 1 on any.
"""
import argparse
import re
import subprocess
import sys


def header_api(paths):
    names = set()
    for p in paths:
        with open(p, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        # Preprocessor lines (the #define of TAPIQ_API itself), continuations included.
        text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
        for m in re.finditer(r"\bTAPIQ_API\b[^;(]*?\b(\w+)\s*\(", text):
            names.add(m.group(1))
    return names


def map_api(path, node):
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    text = re.sub(r"#[^\n]*", " ", text)
    m = re.search(r"\b%s\s*\{(.*?)\}[^;]*;" % re.escape(node), text, flags=re.S)
    if not m:
        return None
    body = m.group(1)
    glob = re.search(r"global\s*:(.*?)(?:local\s*:|$)", body, flags=re.S)
    names = set()
    for item in (glob.group(1) if glob else "").split(";"):
        item = item.strip()
        if item:
            names.add(item)
    return names


def nm_defined(nm, args, path):
    out = subprocess.run([nm] + args + [path], check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2 or line.endswith(":"):
            continue  # blank lines and archive member headers
        kind, name = parts[-2], parts[-1]
        syms[name] = kind
    return syms


def report(what, got, want):
    ok = True
    for n in sorted(got - want):
        print("%s: exports %s, which is not in the API" % (what, n))
        ok = False
    for n in sorted(want - got):
        print("%s: does not export %s" % (what, n))
        ok = False
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--headers", nargs="+", required=True)
    ap.add_argument("--map", required=True)
    ap.add_argument("--shared")
    ap.add_argument("--static")
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--node", default="TAPIQ_0")
    a = ap.parse_args()

    api = header_api(a.headers)
    ok = bool(api)
    if not api:
        print("no TAPIQ_API declaration found in %s" % " ".join(a.headers))
    mapped = map_api(a.map, a.node)
    if mapped is None:
        print("%s: no version node %s" % (a.map, a.node))
        ok = False
    else:
        ok = report("%s (node %s)" % (a.map, a.node), mapped, api) and ok

    if a.shared:
        syms = nm_defined(a.nm, ["-D", "--defined-only"], a.shared)
        exported, nodes = set(), set()
        for name, kind in syms.items():
            if kind == "A":
                nodes.add(name)  # a version node's own symbol
                continue
            base, _, version = name.partition("@@")
            exported.add(base)
            if version != a.node:
                print("%s: %s has version %r, not @@%s" % (a.shared, base, version or "(none)",
                                                           a.node))
                ok = False
        if a.node not in nodes:
            print("%s: no version node %s" % (a.shared, a.node))
            ok = False
        ok = report(a.shared, exported, api) and ok
    if a.static:
        syms = nm_defined(a.nm, ["-g", "--defined-only"], a.static)
        ok = report(a.static, set(syms), api) and ok

    checked = [x for x in (a.map, a.shared, a.static) if x]
    if ok:
        print("%d API functions; %s agree" % (len(api), ", ".join(checked)))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

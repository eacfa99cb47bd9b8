#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Recursion in the library, from the compiler's own call graph.

Reads the .ci files gcc writes with -fcallgraph-info (one per source file),
finds every cycle of direct calls (strongly connected components, and
functions that call themselves), and compares them with the table under
"## Recursion" in docs/limits.md: each recursive function must be listed
there with its bound, and each listed one must still recurse, so the
document stays true.  Calls through function pointers are not in the graph;
the library's callbacks all run in the caller's walk and are listed in the
document by hand.

usage: callgraph.py CI_DIR LIMITS_MD
"""
import glob
import re
import sys


def load(ci_dir):
    edges = {}
    for path in glob.glob(ci_dir + "/*.ci"):
        text = open(path).read()
        for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
            edges.setdefault(name(m.group(1)), set()).add(name(m.group(2)))
    return edges


def name(title):
    # "src/ondisk/extent.c:walk_node.isra.0" -> "extent.c:walk_node": a
    # static function keeps its file, so two files' statics of one name
    # (each file's own "insert") are two nodes; "e4_cache_put" stays as is
    file, _, func = title.rpartition(":")
    func = re.sub(r"\.(isra|part|constprop|cold)(\.\d+)*", "", func)
    return file.rsplit("/", 1)[-1] + ":" + func if file else func


def bare(node):
    return node.rsplit(":", 1)[-1]


def cycles(edges):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(100000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                out.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def documented(limits_md):
    text = open(limits_md).read()
    m = re.search(r"^## Recursion\n(.*?)(^## |\Z)", text, re.S | re.M)
    if not m:
        sys.exit("docs/limits.md has no '## Recursion' section")
    names = set()
    for line in m.group(1).splitlines():
        cell = re.match(r"\|\s*`([A-Za-z_0-9]+)`", line)
        if cell:
            names.add(cell.group(1))
    return names


def main():
    ci_dir, limits_md = sys.argv[1], sys.argv[2]
    edges = load(ci_dir)
    if not edges:
        sys.exit("no call graph in " + ci_dir)
    found = cycles(edges)
    listed = documented(limits_md)
    recursive = {bare(f) for c in found for f in c}
    status = 0
    for c in found:
        missing = [f for f in c if bare(f) not in listed]
        print("recursion: " + " -> ".join(c) + ("" if not missing else
              "   NOT IN docs/limits.md: " + ", ".join(missing)))
        if missing:
            status = 1
    for f in sorted(listed - recursive):
        print("docs/limits.md lists %s as recursive, but it no longer is" % f)
        status = 1
    print("%d functions with calls, %d recursive, all documented" %
          (len(edges), len(recursive)) if status == 0 else "FAILED")
    return status


if __name__ == "__main__":
    sys.exit(main())

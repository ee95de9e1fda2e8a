#!/usr/bin/env python3
"""Prints the dependency graph between the top-level modules of a crate and fails when
it has a cycle (docs/ARCHITECTURE.md, "How the layering is checked").

    python3 scripts/module-deps.py server/src        # the server crate

A module `a` depends on module `b` when a file of `a` (its `a.rs` or anything under
`a/`) names `crate::b` — in a `use`, a path or a doc link. `#[cfg(test)]` blocks count
too: a test may not reach upwards either. Comments are skipped, so a module may *talk
about* another without depending on it. The crate root (`lib.rs`, `main.rs`) wires the
modules together and is not part of the graph.
"""
import os
import re
import sys


def modules(src):
    out = {}
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if name in ("lib.rs", "main.rs"):
            continue
        if name.endswith(".rs"):
            mod = name[:-3]
            out.setdefault(mod, []).append(path)
        elif os.path.isdir(path):
            for root, _, files in os.walk(path):
                for f in files:
                    if f.endswith(".rs"):
                        out.setdefault(name, []).append(os.path.join(root, f))
    return out


USE = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
GROUP = re.compile(r"\bcrate::\{([^}]*)\}")


def deps(files, names):
    found = set()
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                code = line.split("//", 1)[0]
                for m in USE.finditer(code):
                    found.add(m.group(1))
                for m in GROUP.finditer(code):
                    for part in m.group(1).split(","):
                        part = part.strip().split("::")[0]
                        if part:
                            found.add(part)
    return {d for d in found if d in names}


def cycles(graph):
    """Every elementary cycle reachable, reported once each (Tarjan's SCCs)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
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
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "server/src"
    mods = modules(src)
    names = set(mods)
    graph = {m: deps(files, names) - {m} for m, files in mods.items()}
    for m in sorted(graph):
        print(f"{m:<16} -> {', '.join(sorted(graph[m])) or '(core only)'}")
    found = cycles(graph)
    if found:
        for comp in found:
            print(f"cycle among: {', '.join(comp)}", file=sys.stderr)
        sys.exit(1)
    print(f"{len(graph)} modules, no cycle")


if __name__ == "__main__":
    main()

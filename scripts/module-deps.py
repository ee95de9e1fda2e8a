#!/usr/bin/env python3
"""Prints the dependency graph between the modules of a crate, level by level, and fails
when any level has a cycle (docs/ARCHITECTURE.md, "How the layering is checked").

    python3 scripts/module-deps.py server/src        # the server crate

Every file is a module (`a.rs` or `a/mod.rs` is `a`, `a/b.rs` is `a::b`). A path in the
code — a `use` (groups included), an expression, a type, an attribute such as
`#[utoipa::path(body = crate::x::Y)]` — names the deepest module it reaches:
`crate::http::error::ApiError` names `http::error`, `super::Source` in `http/dashboard/
rooms.rs` names `http::dashboard`, `self::x` and a child's name in a module's own file
name that child. `#[cfg(test)]` code counts too: a test may not reach upwards either.
Comments (doc comments included) and string literals are skipped, so a module may *talk
about* another without depending on it; rustdoc checks the links. The crate root
(`lib.rs`, `main.rs`) wires the modules together and is not part of the graph.

The graph is checked at every level: between the top-level modules, and among the
children of every module that has some (`http/`, `store/`, `auth/`, …), where the
module's own file (`mod.rs`) is a node of its own, shown as `(mod)`. A child that uses
what its parent's file defines is fine; the parent's file naming a child (a re-export,
a router that merges the children's) is fine; both at once is a cycle.
"""
import os
import re
import sys


# ---- the module tree ------------------------------------------------------------------

def module_files(src):
    """{module path (tuple): file} for every module file under `src`, without the root."""
    out = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)
            parts = rel[:-3].split(os.sep)
            if parts in (["lib"], ["main"]):
                continue
            if parts[-1] == "mod":
                parts = parts[:-1]
            out[tuple(parts)] = os.path.join(root, f)
    return out


# ---- reading Rust, coarsely -----------------------------------------------------------

def strip(text):
    """The code with comments, strings and character literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c == "/" and nxt == "*":
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    out.append("\n" if text[i] == "\n" else "")
                    i += 1
            out.append(" ")
            continue
        raw = re.match(r'b?r(#*)"', text[i:]) if c in "rb" else None
        if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + raw.group(1)
            j = text.find(end, i + raw.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
            continue
        if c == "'":
            ch = re.match(r"'(?:[^'\\\n]|\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.))'", text[i:])
            if ch:
                out.append("' '")
                i += ch.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
INLINE_MOD = re.compile(r"\bmod\s+(" + IDENT + r")\s*\{")
CHILD_MOD = re.compile(r"\bmod\s+(" + IDENT + r")\s*;")


def inline_modules(code):
    """[(start, end, name)] of the inline modules (`mod tests { … }`) of a file."""
    found = []
    for m in INLINE_MOD.finditer(code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        found.append((m.start(), j, m.group(1)))
    return found


def scope_at(pos, inlines):
    """The inline modules around `pos`, outermost first."""
    return [name for start, end, name in sorted(inlines) if start < pos < end]


def expand(code, pos):
    """The paths that start at `pos` (`a::b::{c, d::{e, f}}` gives `a::b::c`, …)."""

    def seq(i):
        # One path: idents joined by `::`, maybe ending in a `{…}` group.
        segs = []
        while True:
            m = re.compile(r"\s*(" + IDENT + r"|\*)").match(code, i)
            if not m:
                return [segs] if segs else [], i
            segs.append(m.group(1))
            i = m.end()
            sep = re.compile(r"\s*::\s*").match(code, i)
            if not sep:
                return [segs], i
            i = sep.end()
            if code.startswith("{", i):
                paths, i = group(i + 1)
                return [segs + p for p in paths] or [segs], i

    def group(i):
        paths = []
        while i < len(code):
            sub, i = seq(i)
            paths.extend(sub)
            m = re.compile(r"\s*(,|\})").match(code, i)
            if not m:
                break
            i = m.end()
            if m.group(1) == "}":
                break
        return paths, i

    return seq(pos)[0]


# ---- resolving paths to modules -------------------------------------------------------

def deepest(path, modules):
    """The deepest module of `modules` that `path` (a list of names from the crate root)
    lies in, or None when it leaves the crate's modules."""
    best = None
    for k in range(1, len(path) + 1):
        if tuple(path[:k]) in modules:
            best = tuple(path[:k])
        else:
            break
    return best


START = re.compile(r"(?<![A-Za-z0-9_:])(crate|super|self|" + IDENT + r")\s*::")


def dependencies(mod, file, modules):
    """The modules `mod`'s file names."""
    with open(file, encoding="utf-8") as fh:
        code = strip(fh.read())
    inlines = inline_modules(code)
    children = {m.group(1) for m in CHILD_MOD.finditer(code)}
    found = set()
    for m in START.finditer(code):
        first = m.group(1)
        if first not in ("crate", "super", "self") and first not in children:
            continue
        here = list(mod) + scope_at(m.start(), inlines)
        for path in expand(code, m.start()):
            if path[0] == "crate":
                full = path[1:]
            elif path[0] in ("super", "self"):
                base = list(here)
                while path and path[0] in ("super", "self"):
                    if path[0] == "super":
                        base = base[:-1]
                    path = path[1:]
                full = base + path
            else:
                # A child declared with `mod child;` in this very file.
                if scope_at(m.start(), inlines):
                    continue
                full = list(mod) + path
            target = deepest(full, modules)
            if target is not None and target != mod:
                found.add(target)
    return found


# ---- the graphs -----------------------------------------------------------------------

def cycles(graph):
    """The strongly connected components with more than one node (Tarjan)."""
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


ROOT = "(mod)"


def level(parent, edges, files):
    """The graph among the children of `parent` (and its own file, `(mod)`)."""
    depth = len(parent)

    def node(m):
        return m[depth] if len(m) > depth else ROOT

    inside = [m for m in files if m[:depth] == parent]
    graph = {node(m): set() for m in inside}
    for src in inside:
        for t in edges[src]:
            if t[:depth] == parent and node(t) != node(src):
                graph[node(src)].add(node(t))
    return graph


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "server/src"
    files = module_files(src)
    # Every module, also one whose file is `a.rs` next to a directory `a/`.
    modules = {m[:k] for m in files for k in range(1, len(m) + 1)}
    edges = {m: dependencies(m, f, modules) for m, f in files.items()}
    parents = sorted({m[:k] for m in files for k in range(len(m))}, key=lambda p: (len(p), p))
    failed, levels, nodes = False, 0, 0
    for parent in parents:
        graph = level(parent, edges, files)
        if len(graph) < 2:
            continue
        levels, nodes = levels + 1, nodes + len(graph)
        title = "/".join(parent) + "/" if parent else "crate"
        none = "-" if parent else "(core only)"
        width = max(len(n) for n in graph) + 1
        print(title)
        for n in sorted(graph, key=lambda x: (x != ROOT, x)):
            print(f"  {n:<{width}} -> {', '.join(sorted(graph[n])) or none}")
        for comp in cycles(graph):
            failed = True
            print(f"cycle in {title}: {', '.join(comp)}", file=sys.stderr)
    if failed:
        sys.exit(1)
    print(f"{nodes} modules on {levels} levels, no cycle")


if __name__ == "__main__":
    main()

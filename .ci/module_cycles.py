#!/usr/bin/env python3
"""Module cycles inside each crate of the workspace, from `use` paths and `crate::`/`super::`/`self::`
references in the (non-test) source.

A module is a file: `src/lib.rs` is the crate root, `src/a.rs` or `src/a/mod.rs` is `a`,
`src/a/b.rs` is `a::b`. An edge A -> B means code in A names an item of B. A path that ends at a
re-export (`pub use b::Item;` in the module it names) is followed to the module that defines the
item, so a facade that re-exports its children is not a cycle by itself; a child that names an
item its parent defines, while the parent uses the child, is. Declaring a module (`mod b;`) is not
an edge. Test modules (`#[cfg(test)] mod ... { }` and `#[cfg(test)] mod x;`) and comments are left out.

Prints every strongly connected component with more than one module, with the references that
tie it, and exits 1 if there is one. Usage: `.ci/module_cycles.py [--known crate_dir] [crate_dir ...]`
(default: every workspace member with a `src/lib.rs`).
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def strip_comments(text):
    """Removes // and /* */ comments and the insides of string literals (which may hold `crate::`)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            out.append('""')
            i = n if j < 0 else j + len(end)
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 12]):
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            out.append("' '")
            i += len(m.group(0)) if m else 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


# `#[cfg(test)]`, `#[cfg(all(test, feature = ""))]` (string insides are already blanked).
TEST_CFG = r"#\[cfg\((?:test|all\(test\b[^\]]*\))\)\]"


def strip_test_modules(text):
    """Removes `#[cfg(test)] mod name { ... }` blocks and returns (text, test-only module names)."""
    test_mods = set(re.findall(TEST_CFG + r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", text))
    while True:
        m = re.search(TEST_CFG + r"\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", text)
        if not m:
            return text, test_mods
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        text = text[:m.start()] + text[j:]


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e'] (aliases and `self` handled)."""
    tree = re.sub(r"\s+", "", tree)
    brace = tree.find("{")
    if brace < 0:
        tree = tree.split("as")[0] if re.search(r"\bas\b", tree) else tree
        return [re.sub(r"::self$", "", tree)]
    prefix, inner = tree[:brace], tree[brace + 1:tree.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    parts.append(cur)
    result = []
    for part in filter(None, parts):
        for p in expand_use(part):
            result.append(prefix.rstrip(":") if p == "self" else prefix + p)
    return result


class Crate:
    def __init__(self, path):
        self.path = path
        self.modules = {}  # tuple path -> (file, stripped text)
        self.children = {}  # tuple path -> set of child names
        self.load((), os.path.join(path, "src", "lib.rs"))

    def load(self, mod, file):
        with open(file, encoding="utf-8") as f:
            text = f.read()
        text, test_mods = strip_test_modules(strip_comments(text))
        self.modules[mod] = (file, text)
        self.children[mod] = set()
        base = os.path.dirname(file) if os.path.basename(file) in ("lib.rs", "mod.rs") else file[:-3]
        for m in re.finditer(r"(?m)^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", text):
            name = m.group(1)
            if name in test_mods:
                continue
            for cand in (os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")):
                if os.path.exists(cand):
                    self.children[mod].add(name)
                    self.load(mod + (name,), cand)
                    break

    def name(self, mod):
        return "::".join(mod) or "lib"

    def resolve(self, current, segments, depth=0):
        """The module defining what `segments` (a path as written in `current`) names, or None."""
        if not segments:
            return None
        head = segments[0]
        if head == "crate":
            node, rest = (), segments[1:]
        elif head == "self":
            node, rest = current, segments[1:]
        elif head == "super":
            node, rest = current, segments
            while rest and rest[0] == "super":
                node, rest = node[:-1], rest[1:]
        elif head in self.children.get(current, ()):
            node, rest = current, segments
        else:
            return None  # an external crate, a local item or a prelude name
        while rest and rest[0] in self.children.get(node, ()):
            node, rest = node + (rest[0],), rest[1:]
        if rest and depth < 8:
            followed = self.follow_reexport(node, rest[0], depth)
            if followed is not None:
                return followed
        return node

    def follow_reexport(self, node, item, depth):
        """If `node` re-exports `item` (`pub use path::item`), the module that path leads to."""
        text = self.modules[node][1]
        for m in re.finditer(r"pub(?:\([^)]*\))?\s+use\s+([^;]+);", text):
            for path in expand_use(m.group(1)):
                alias = re.search(r"\bas(\w+)$", path)
                segs = re.sub(r"as\w+$", "", path).split("::") if alias else path.split("::")
                if (alias.group(1) if alias else segs[-1]) == item or segs[-1] == "*":
                    target = self.resolve(node, segs, depth + 1)
                    if target is not None and target != node:
                        return target
        return None

    def edges(self):
        result = {}
        for mod, (_, text) in self.modules.items():
            refs = []
            for m in re.finditer(r"\buse\s+([^;]+);", text):
                refs.extend(expand_use(m.group(1)))
            for m in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)(?!\w|::\{)", text):
                refs.append(m.group(1))
            for ref in refs:
                target = self.resolve(mod, ref.split("::"))
                if target is not None and target != mod:
                    result.setdefault(mod, {}).setdefault(target, ref)
        return result


def sccs(nodes, edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
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
            out.append(comp)

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def members():
    with open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8") as f:
        text = f.read()
    block = re.search(r"members\s*=\s*\[([^\]]*)\]", text).group(1)
    return [os.path.join(ROOT, m) for m in re.findall(r'"([^"]+)"', block)]


def main():
    args = sys.argv[1:]
    # `--known web`: that crate's cycles are printed but do not fail the run (a cycle being
    # broken in an open issue); everything else must be clean.
    known = set()
    while "--known" in args:
        i = args.index("--known")
        known.add(os.path.abspath(os.path.join(ROOT, args[i + 1])))
        del args[i:i + 2]
    crates = [os.path.abspath(p) for p in args] or members()
    found = 0
    for path in crates:
        if not os.path.exists(os.path.join(path, "src", "lib.rs")):
            continue
        crate = Crate(path)
        edges = crate.edges()
        for comp in sccs(list(crate.modules), edges):
            if len(comp) < 2:
                continue
            found += path not in known
            names = sorted(crate.name(m) for m in comp)
            tag = " (known, does not fail)" if path in known else ""
            print(f"{os.path.relpath(path, ROOT)}: cycle between {', '.join(names)}{tag}")
            for a in sorted(comp):
                for b, ref in sorted(edges.get(a, {}).items()):
                    if b in comp:
                        print(f"    {crate.name(a)} -> {crate.name(b)}  ({ref})")
    if found:
        print(f"{found} module cycle(s)")
        return 1
    print(f"no module cycles in {len(crates)} crates" + (" (known ones excepted)" if known else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

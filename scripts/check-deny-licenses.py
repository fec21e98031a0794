#!/usr/bin/env python3
"""Offline approximation of `cargo deny check licenses`.

    scripts/check-deny-licenses.py

cargo-deny itself runs in the flake's `deny` check. On a host without it,
this reads the `license` expression of every crates.io package in Cargo.lock
from the local cargo registry cache (~/.cargo/registry/src) and evaluates it
against [licenses] allow in deny.toml (SPDX: OR, AND, WITH, parentheses; "/"
as the legacy OR). Packages whose sources are not cached are counted and
skipped; the check fails only on a license expression the allow-list cannot
satisfy. Exit status 0 when every cached crate passes, 1 on a problem, 3 when
no crate source is cached at all (nothing was checked). Differences from
cargo-deny: no license-file text detection, no [graph] target pruning (so it
is stricter), no clarify/exceptions.
"""

import os
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def satisfied(expression, allow):
    tokens = re.findall(r"\(|\)|[A-Za-z0-9.+-]+", expression.replace("/", " OR "))
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def atom():
        if peek() == "(":
            take()
            value = any_of()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in {expression!r}")
            return value
        name = take()
        if peek() == "WITH":
            take()
            name += " WITH " + take()
        return name in allow

    def all_of():
        value = atom()
        while peek() == "AND":
            take()
            value = atom() and value
        return value

    def any_of():
        value = all_of()
        while peek() == "OR":
            take()
            value = all_of() or value
        return value

    result = any_of()
    if pos != len(tokens):
        raise ValueError(f"cannot parse license expression {expression!r}")
    return result


def main():
    allow = set(tomllib.loads((ROOT / "deny.toml").read_text())["licenses"]["allow"])
    lock = tomllib.loads((ROOT / "Cargo.lock").read_text())
    cargo_home = pathlib.Path(os.environ.get("CARGO_HOME", pathlib.Path.home() / ".cargo"))
    registries = sorted((cargo_home / "registry" / "src").glob("*"))

    checked, uncached, problems = 0, [], []
    for pkg in lock.get("package", []):
        if not pkg.get("source", "").startswith("registry+"):
            continue
        name = f"{pkg['name']}-{pkg['version']}"
        manifest = next((r / name / "Cargo.toml" for r in registries if (r / name / "Cargo.toml").exists()), None)
        if manifest is None:
            uncached.append(name)
            continue
        meta = tomllib.loads(manifest.read_text()).get("package", {})
        expression = meta.get("license")
        checked += 1
        if not expression:
            problems.append(f"{name}: no SPDX `license` field (license-file {meta.get('license-file')!r})")
        elif not satisfied(expression, allow):
            problems.append(f"{name}: {expression!r} is not satisfied by deny.toml's allow-list")

    for p in problems:
        print(f"check-deny-licenses: {p}", file=sys.stderr)
    note = f", {len(uncached)} not in the local registry cache (skipped)" if uncached else ""
    print(f"licenses: {checked} crates checked against deny.toml{note}")
    if checked == 0:
        print("check-deny-licenses: no crate sources cached (run `cargo fetch` first)", file=sys.stderr)
        return 3
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Fail when the crate reads a file that the Nix build would not have.

    scripts/check-crate-sources.py [EXTRAS_NIX]   (default nix/crate-source-extras.nix)

crane builds from a filtered copy of the repository (nix/package.nix): Cargo's
own sources, src/**/*.snap, and the entries of nix/crate-source-extras.nix.
A file missing from that copy only shows up when someone runs the Nix build.
This script finds the files src/ and tests/ read at compile time or relative
to the manifest directory:

    include_str!("..."), include_bytes!("...")     relative to the .rs file
    env!("CARGO_MANIFEST_DIR") with a path literal  relative to the repository

and checks that each is covered. Exit status 0 when all are, 1 otherwise.
"""

import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)')
MANIFEST_LINE = re.compile(r'env!\(\s*"CARGO_MANIFEST_DIR"\s*\)')
PATH_LITERAL = re.compile(r'"/?((?:[\w.-]+/)*[\w.-]+\.[A-Za-z0-9]+)"')


def extras(path):
    out = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def covered(rel, entries):
    if rel.endswith((".rs", ".toml")) or rel == "Cargo.lock":
        return True
    if rel.startswith("src/") and rel.endswith(".snap"):
        return True
    return any(rel == e or rel.startswith(e.rstrip("/") + "/") for e in entries)


def references():
    for rs in sorted([*ROOT.glob("src/**/*.rs"), *ROOT.glob("tests/**/*.rs")]):
        text = rs.read_text(errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            where = f"{rs.relative_to(ROOT)}:{lineno}"
            for m in INCLUDE.finditer(line):
                target = (rs.parent / m.group(1)).resolve()
                yield where, target
            if MANIFEST_LINE.search(line):
                for m in PATH_LITERAL.finditer(line):
                    yield where, (ROOT / m.group(1)).resolve()


def main(argv):
    entries = extras(argv[1] if len(argv) > 1 else ROOT / "nix/crate-source-extras.nix")
    problems, count = [], 0
    for where, target in references():
        count += 1
        try:
            rel = target.relative_to(ROOT).as_posix()
        except ValueError:
            problems.append(f"{where}: reads {target}, outside the repository")
            continue
        if not covered(rel, entries):
            problems.append(f"{where}: reads {rel}, which is not in the Nix build's source "
                            "(add it to nix/crate-source-extras.nix)")
    for p in problems:
        print(f"check-crate-sources: {p}", file=sys.stderr)
    print(f"crate sources: {count} file references, extras {', '.join(entries)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

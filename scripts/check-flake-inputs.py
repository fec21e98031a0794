#!/usr/bin/env python3
"""Fail when flake.nix and flake.lock disagree about the flake's inputs.

    scripts/check-flake-inputs.py [FLAKE_DIR]     (default: the repository root)

Reads `inputs` and the formal arguments of `outputs` from flake.nix with bare
`nix-instantiate` (no nixpkgs, no network) and compares them with the root
node of flake.lock:

  - the input names in flake.nix and in the lock's root node are the same;
  - every argument of `outputs` except `self` is a declared input (Nix would
    otherwise resolve it through the flake registry);
  - each input's URL matches the lock's "original" entry (type, owner, repo,
    ref), and `flake = false` matches the lock node;
  - no `follows` (the pinned lock has none) and the lock is version 7.

Exit status 0 when they agree, 1 with one line per problem otherwise.
"""

import json
import pathlib
import subprocess
import sys

NIX_EXPR = """
let
  flake = import (FLAKE_DIR + "/flake.nix");
  describe = name: spec:
    let s = if builtins.isString spec then { url = spec; } else spec;
    in {
      url = s.url or null;
      flake = s.flake or true;
      follows = s.follows or null;
      nestedInputs = builtins.attrNames (s.inputs or { });
    };
in {
  inputs = builtins.mapAttrs describe (flake.inputs or { });
  outputArgs = builtins.attrNames (builtins.functionArgs flake.outputs);
}
"""


def read_flake(flake_dir):
    cmd = [
        "nix-instantiate", "--eval", "--strict", "--json",
        "--arg", "FLAKE_DIR", str(flake_dir),
        "-E", "{ FLAKE_DIR }: " + NIX_EXPR,
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def parse_url(url):
    """github:OWNER/REPO[/REF] -> the lock's "original" fields."""
    if not url or not url.startswith("github:"):
        return None
    path, _, _query = url[len("github:"):].partition("?")
    parts = path.split("/")
    if len(parts) not in (2, 3):
        return None
    original = {"type": "github", "owner": parts[0], "repo": parts[1]}
    if len(parts) == 3:
        original["ref"] = parts[2]
    return original


def check(flake_dir):
    problems = []
    flake = read_flake(flake_dir)
    lock = json.loads((flake_dir / "flake.lock").read_text())

    if lock.get("version") != 7:
        problems.append(f"flake.lock: version {lock.get('version')!r}, expected 7")
    nodes = lock.get("nodes", {})
    root = nodes.get(lock.get("root", "root"), {})
    locked_inputs = root.get("inputs", {})

    declared = set(flake["inputs"])
    in_lock = set(locked_inputs)
    for name in sorted(declared - in_lock):
        problems.append(f"input {name!r} is in flake.nix but not in flake.lock's root node")
    for name in sorted(in_lock - declared):
        problems.append(f"input {name!r} is in flake.lock's root node but not in flake.nix")

    for arg in sorted(set(flake["outputArgs"]) - declared - {"self"}):
        problems.append(f"outputs takes {arg!r}, which is not a declared input")

    for name in sorted(declared & in_lock):
        spec = flake["inputs"][name]
        target = locked_inputs[name]
        if not isinstance(target, str):
            problems.append(f"input {name!r}: flake.lock has a follows entry {target!r}")
            continue
        node = nodes.get(target)
        if node is None:
            problems.append(f"input {name!r}: flake.lock's root points at missing node {target!r}")
            continue
        if spec["follows"] is not None or spec["nestedInputs"]:
            problems.append(f"input {name!r}: follows/nested inputs are not in the pinned lock")
        want = parse_url(spec["url"])
        if want is None:
            problems.append(f"input {name!r}: unsupported url {spec['url']!r} (expected github:OWNER/REPO[/REF])")
        elif node.get("original") != want:
            problems.append(f"input {name!r}: url {spec['url']!r} does not match the lock's original {node.get('original')!r}")
        if node.get("flake", True) != spec["flake"]:
            problems.append(f"input {name!r}: flake = {str(spec['flake']).lower()} in flake.nix, {str(node.get('flake', True)).lower()} in flake.lock")
        if "locked" not in node or "narHash" not in node.get("locked", {}):
            problems.append(f"input {name!r}: lock node {target!r} has no locked narHash")
    return problems, sorted(declared)


def main(argv):
    flake_dir = pathlib.Path(argv[1] if len(argv) > 1 else pathlib.Path(__file__).resolve().parent.parent).resolve()
    try:
        problems, names = check(flake_dir)
    except subprocess.CalledProcessError as err:
        print(f"check-flake-inputs: cannot evaluate {flake_dir}/flake.nix:\n{err.stderr}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as err:
        print(f"check-flake-inputs: {err}", file=sys.stderr)
        return 1
    if problems:
        for p in problems:
            print(f"check-flake-inputs: {p}", file=sys.stderr)
        return 1
    print(f"flake inputs agree with flake.lock: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

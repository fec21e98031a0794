#!/usr/bin/env python3
"""Structural check of the VM test's Python script: every negative assertion
has a paired control.

    nix-instantiate --eval --strict --json nix/tests/render-vm-test.nix > vm.json
    python3 scripts/check-vm-script.py vm.json

The rule (nix/vm-test.nix's header states it): a negative assertion is made
only inside a helper that also runs its control, and every call of a helper
passes the control.

  negative assertion                         allowed only inside
  machine.fail(...)                          negative(command, control)
  `x not in y`                               absent(needle, haystack, present),
                                             differs(value, probe, control)
  an assert on "NET-RESULT blocked..."       blocked(out, control_out)
  an assert on "401"                         denied(status, control_status)

Each helper's body must itself make the negative assertion and the control
one, and each helper must be used. The check is on the syntax tree: it proves
the pairing exists, not that a control is the right one.
"""

import ast
import json
import sys

HELPERS = {"negative": 2, "absent": 3, "differs": 3, "blocked": 2, "denied": 2}


def fail(problems):
    sys.exit("check-vm-script: every negative assertion needs a paired control:\n  " + "\n  ".join(problems))


def enclosing_functions(tree):
    """Maps each node to the name of the function it is defined in (or None)."""
    owner = {}

    def visit(node, fn):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef) else fn
            owner[child] = name
            visit(child, name)

    visit(tree, None)
    return owner


def strings_in(node):
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check-vm-script.py RENDERED.json")
    script = json.load(open(sys.argv[1]))["testScript"]
    tree = ast.parse(script, "vm-test testScript")
    owner = enclosing_functions(tree)
    problems = []
    line = lambda n: f"line {n.lineno}"  # noqa: E731

    defs = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    for name, arity in HELPERS.items():
        if name not in defs:
            problems.append(f"helper {name}() is not defined")
        elif len(defs[name].args.args) != arity or defs[name].args.defaults:
            problems.append(f"helper {name}() must take exactly {arity} arguments, none optional")

    for node in ast.walk(tree):
        fn = owner.get(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fail":
            if fn != "negative":
                problems.append(f"{line(node)}: machine.fail() outside negative(command, control)")
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.NotIn) for op in node.ops):
            if fn not in ("absent", "differs"):
                problems.append(f"{line(node)}: `not in` outside absent()/differs()")
        if isinstance(node, ast.Assert):
            texts = strings_in(node.test)
            if any("NET-RESULT blocked" in t for t in texts) and fn != "blocked":
                problems.append(f"{line(node)}: a 'blocked' assertion outside blocked(out, control_out)")
            if "401" in texts and fn != "denied":
                problems.append(f"{line(node)}: a 401 assertion outside denied(status, control_status)")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in HELPERS:
            given = len(node.args) + len(node.keywords)
            nones = [a for a in node.args if isinstance(a, ast.Constant) and a.value is None]
            if given != HELPERS[node.func.id] or nones:
                problems.append(f"{line(node)}: {node.func.id}() called without its control")

    # Each helper makes both assertions itself.
    def body_has(name, predicate):
        return name in defs and any(predicate(n) for n in ast.walk(defs[name]))

    calls = lambda attr: lambda n: (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)  # noqa: E731
                                    and n.func.attr == attr)
    op = lambda kind: lambda n: isinstance(n, ast.Compare) and any(isinstance(o, kind) for o in n.ops)  # noqa: E731
    required = {
        "negative": [("machine.fail", calls("fail")), ("machine.succeed (the control)", calls("succeed"))],
        "absent": [("`not in`", op(ast.NotIn)), ("`in` (the control)", op(ast.In))],
        "differs": [("`not in`", op(ast.NotIn)), ("`in` (the control)", op(ast.In))],
        "blocked": [("'blocked'", lambda n: isinstance(n, ast.Constant) and "NET-RESULT blocked" in str(n.value)),
                    ("'connected' (the control)",
                     lambda n: isinstance(n, ast.Constant) and "NET-RESULT connected" in str(n.value))],
        "denied": [("== '401'", op(ast.Eq)), ("!= '401' (the control)", op(ast.NotEq))],
    }
    for name, needs in required.items():
        for what, predicate in needs:
            if name in defs and not body_has(name, predicate):
                problems.append(f"helper {name}() does not make its {what} assertion")

    used = {n.func.id for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in HELPERS}
    for name in sorted(set(HELPERS) - used):
        problems.append(f"helper {name}() is never used")

    if problems:
        fail(problems)
    count = sum(1 for n in ast.walk(tree)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in HELPERS)
    print(f"{count} negative assertions, each with its control")


if __name__ == "__main__":
    main()

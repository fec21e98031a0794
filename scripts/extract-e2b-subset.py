#!/usr/bin/env python3
"""Extract the parts of E2B's API specifications that jira-mcp's E2B backend uses.

    scripts/extract-e2b-subset.py [path/to/e2b-spec] > tests/fixtures/e2b-spec-subset.json

The default input is ../shared/e2b-spec/ (byte-identical copies of e2b-dev/E2B's spec/ files,
Apache-2.0): openapi.yml (the control plane), envd.yaml (the in-sandbox daemon's HTTP API) and
process.proto (its process API over Connect). For each operation used: the query parameter names,
the request body's properties (and required ones, and those of object-valued properties), and per
declared status the response body's properties. For the proto messages used: their JSON field
names (proto3 JSON: lowerCamelCase). tests/e2b_contract.rs holds the backend's requests and the
local double's answers to this file, so neither can drift from E2B's published shapes.
"""
import json
import os
import re
import sys

import yaml

CONTROL = [
    ("post", "/sandboxes"),
    ("get", "/sandboxes/{sandboxID}"),
    ("delete", "/sandboxes/{sandboxID}"),
    ("get", "/v2/sandboxes"),
    ("get", "/templates/{templateID}"),
]
ENVD = [
    ("post", "/files"),
    ("get", "/files"),
    ("get", "/health"),
]
MESSAGES = [
    "StartRequest",
    "ProcessConfig",
    "StartResponse",
    "ProcessEvent",
    "ProcessEvent.StartEvent",
    "ProcessEvent.DataEvent",
    "ProcessEvent.EndEvent",
    "ProcessEvent.KeepAlive",
]


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        path = node["$ref"].lstrip("#/").split("/")
        node = spec
        for part in path:
            node = node[part]
    return node


def shape(spec, schema, depth=0):
    schema = resolve(spec, schema or {})
    if schema.get("type") == "array":
        inner = shape(spec, schema.get("items"), depth)
        inner["array"] = True
        return inner
    props = schema.get("properties") or {}
    out = {"properties": sorted(props), "required": sorted(schema.get("required") or [])}
    if depth == 0:
        nested = {}
        for name, prop in props.items():
            target = resolve(spec, prop)
            if target.get("properties"):
                nested[name] = shape(spec, target, depth + 1)
        if nested:
            out["nested"] = nested
    return out


def operations(spec, wanted):
    out = {}
    for method, path in wanted:
        op = spec["paths"][path][method]
        params = [resolve(spec, p) for p in op.get("parameters") or []]
        entry = {"query": sorted(p["name"] for p in params if p.get("in") == "query"), "responses": {}}
        body = resolve(spec, op.get("requestBody") or {})
        content = body.get("content") or {}
        if "application/json" in content:
            entry["request"] = shape(spec, content["application/json"].get("schema"))
        if content:
            entry["request_types"] = sorted(content)
        for status, response in (op.get("responses") or {}).items():
            response = resolve(spec, response)
            rc = response.get("content") or {}
            entry["responses"][str(status)] = (
                shape(spec, rc["application/json"].get("schema")) if "application/json" in rc else {"no_json": True}
            )
        out[f"{method.upper()} {path}"] = entry
    return out


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def proto_messages(text):
    """Field names of every message, nested ones as Outer.Inner."""
    text = re.sub(r"//[^\n]*", "", text)
    found, stack, depth_of = {}, [], []
    depth = 0
    for token in re.finditer(r"message\s+(\w+)\s*\{|\{|\}|(?:optional\s+|repeated\s+)?(?:map<[^>]+>|[\w.]+)\s+(\w+)\s*=\s*\d+\s*;", text):
        s = token.group(0)
        if s.startswith("message"):
            stack.append(token.group(1))
            depth += 1
            depth_of.append(depth)
            found[".".join(stack)] = []
        elif s == "{":
            depth += 1
        elif s == "}":
            if depth_of and depth_of[-1] == depth:
                depth_of.pop()
                stack.pop()
            depth -= 1
        elif stack and token.group(2):
            found[".".join(stack)].append(camel(token.group(2)))
    return found


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "e2b-spec")
    with open(os.path.join(base, "openapi.yml")) as f:
        control = yaml.safe_load(f)
    with open(os.path.join(base, "envd.yaml")) as f:
        envd = yaml.safe_load(f)
    with open(os.path.join(base, "process.proto")) as f:
        messages = proto_messages(f.read())
    out = {
        "source": "e2b-dev/E2B spec/ at b8029973aa7da5f741f7bb1a9f833b38a0885438 (Apache-2.0)",
        "control": operations(control, CONTROL),
        "envd": operations(envd, ENVD),
        "process": {m: sorted(messages[m]) for m in MESSAGES},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


main()

#!/usr/bin/env python3
"""Extract the Jira Cloud operations jira-mcp uses from Atlassian's OpenAPI spec.

    scripts/extract-openapi-subset.py [path/to/jira-platform.v3.json] > tests/fixtures/jira-openapi-subset.json

The default input is ../shared/jira-openapi/jira-platform.v3.json (Atlassian's unmodified spec, Apache-2.0);
the agile operations come from jira-agile.v3.json beside it.
For each operation: the success status codes, the property names of the success response schema, the request
body's property names and whether it allows extra properties, and the query parameter names. Then the property
names of the field values listed in FIELD_SCHEMAS (an issue's attachments).
tests/openapi_contract.rs checks the emulator against this file, so the emulator keeps Jira's shapes.
"""
import json
import os
import sys

OPERATIONS = [
    ("get", "/rest/api/3/myself"),
    ("post", "/rest/api/3/search/jql"),
    ("post", "/rest/api/3/search/approximate-count"),
    ("get", "/rest/api/3/issue/{issueIdOrKey}"),
    ("put", "/rest/api/3/issue/{issueIdOrKey}"),
    ("delete", "/rest/api/3/issue/{issueIdOrKey}"),
    ("post", "/rest/api/3/issue"),
    ("get", "/rest/api/3/issue/{issueIdOrKey}/transitions"),
    ("post", "/rest/api/3/issue/{issueIdOrKey}/transitions"),
    ("get", "/rest/api/3/issue/{issueIdOrKey}/comment"),
    ("post", "/rest/api/3/issue/{issueIdOrKey}/comment"),
    ("get", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes"),
    ("get", "/rest/api/3/project/search"),
    ("get", "/rest/api/3/project/{projectIdOrKey}"),
    ("get", "/rest/api/3/user/search"),
    ("get", "/rest/api/3/status"),
    ("get", "/rest/api/3/priority/search"),
    ("get", "/rest/api/3/search"),
    ("post", "/rest/api/3/search"),
    ("get", "/rest/api/3/field"),
    ("get", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}"),
    ("get", "/rest/api/3/issue/{issueIdOrKey}/editmeta"),
    ("get", "/rest/api/3/issue/{issueIdOrKey}/worklog"),
    ("post", "/rest/api/3/issue/{issueIdOrKey}/worklog"),
    ("get", "/rest/api/3/issue/{issueIdOrKey}/remotelink"),
    ("get", "/rest/api/3/issueLinkType"),
    ("post", "/rest/api/3/issueLink"),
    ("delete", "/rest/api/3/issueLink/{linkId}"),
    ("get", "/rest/api/3/attachment/content/{id}"),
    ("post", "/rest/api/3/issue/{issueIdOrKey}/attachments"),
]

# Jira Software's agile API, from the second spec.
AGILE_OPERATIONS = [
    ("get", "/rest/agile/1.0/board"),
    ("get", "/rest/agile/1.0/board/{boardId}/sprint"),
    ("post", "/rest/agile/1.0/sprint/{sprintId}/issue"),
    ("post", "/rest/agile/1.0/backlog/issue"),
]

# Shapes of issue field values the emulator sends inside an issue's `fields` (by the spec's schema name).
FIELD_SCHEMAS = ["Attachment"]


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "..", "shared", "jira-openapi", "jira-platform.v3.json")
    platform_path = sys.argv[1] if len(sys.argv) > 1 else default
    spec = json.load(open(platform_path))
    agile = json.load(open(os.path.join(os.path.dirname(platform_path), "jira-agile.v3.json")))

    schemas = {}

    def resolve(schema):
        while schema and "$ref" in schema:
            schema = schemas[schema["$ref"].split("/")[-1]]
        return schema or {}

    def shape(schema):
        schema = resolve(schema)
        if schema.get("type") == "array":
            inner = shape(schema.get("items"))
            return {"array": True, "properties": inner["properties"], "additional": inner["additional"]}
        props = dict(schema.get("properties", {}))
        for part in schema.get("allOf", []):
            props.update(resolve(part).get("properties", {}))
        return {"array": False, "properties": sorted(props), "additional": schema.get("additionalProperties", True) is not False}

    out = []
    for source, method, path in [(spec, m, p) for m, p in OPERATIONS] + [(agile, m, p) for m, p in AGILE_OPERATIONS]:
        schemas.clear()
        schemas.update(source["components"]["schemas"])
        op = source["paths"][path][method]
        ok = sorted(c for c in op["responses"] if c.startswith("2"))
        body = op["responses"][ok[0]].get("content", {}).get("application/json", {}).get("schema") if ok else None
        request = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        out.append({
            "method": method.upper(),
            "path": path,
            "deprecated": bool(op.get("deprecated")),
            "success": ok,
            "response": shape(body) if body else None,
            "request": shape(request) if request else None,
            "query": sorted(p["name"] for p in op.get("parameters", []) if p.get("in") == "query"),
        })
    schemas.clear()
    schemas.update(spec["components"]["schemas"])
    fields = {name: shape({"$ref": "#/components/schemas/" + name}) for name in FIELD_SCHEMAS}
    source = "Atlassian Jira Cloud platform OpenAPI, info.version " + spec["info"]["version"]
    source += "; Jira Software Cloud OpenAPI, version " + agile["info"]["version"]
    json.dump({"source": source, "operations": out, "field_schemas": fields}, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()

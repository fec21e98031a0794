"""The project's own rules for the rendered Kubernetes manifests (scripts/check-deploy runs it
with its venv's Python, which has PyYAML), and the mutants that prove the checks can fail.

  check-deploy.py policy RENDERED.yaml        exit 1 and one line per broken rule
  check-deploy.py mutate NAME IN.yaml OUT.yaml  write a broken copy (NAME: see MUTANTS)
  check-deploy.py checkov REPORT.json DOCS     exit 1 unless checkov parsed all DOCS resources
                                               and none failed

The rules are the ones no schema or generic linter knows: no secret as an environment value,
drain settings that fit the grace period, the fallback divisor that covers the autoscaler,
selectors that select the pods (and peers that are not rewritten into ours), $(VAR) references
to variables defined before them.
"""

import json
import re
import sys

import yaml

# Environment variables that hold a secret: only their *_FILE forms may appear in a manifest.
SECRET_VARS = {
    "JIRA_API_TOKEN",
    "JIRA_MCP_HTTP_TOKEN",
    "E2B_API_KEY",
    "JIRA_MCP_CONFIRM_KEY",
    "JIRA_MCP_REDIS_URL",
}
SECRET_SUFFIXES = ("_TOKEN", "_KEY", "_PASSWORD", "_SECRET")
# Seconds left after the server's own drain for killing and removing sandboxes (the E2B
# backend's drain waits at most 10 s, docs/sandbox.md).
GRACE_MARGIN_SECS = 10
OUR_LABEL = "app.kubernetes.io/name"
OUR_NAME = "jira-mcp"


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def one(docs, kind):
    found = [d for d in docs if d.get("kind") == kind]
    return found[0] if len(found) == 1 else None


def is_secret_var(name):
    return name in SECRET_VARS or name.endswith(SECRET_SUFFIXES)


def configmaps(docs):
    return [d for d in docs if d.get("kind") == "ConfigMap"]


def no_secrets(docs):
    for d in docs:
        if d.get("kind") == "Secret":
            yield f"a Secret ({d['metadata']['name']}) is in the manifests; Secrets are created from files"
    for cm in configmaps(docs):
        for key in cm.get("data") or {}:
            if is_secret_var(key):
                yield f"ConfigMap {cm['metadata']['name']} holds the secret {key}"


def container_rules(docs, container, mounts):
    """Secret env values, $(VAR) order, *_FILE paths, probe paths."""
    name = f"container {container['name']}"
    defined = set()
    for src in container.get("envFrom") or []:
        ref = (src.get("configMapRef") or {}).get("name")
        for cm in configmaps(docs):
            if cm["metadata"]["name"] == ref:
                defined |= set(cm.get("data") or {})
    for var in container.get("env") or []:
        if is_secret_var(var["name"]):
            yield f"{name}: {var['name']} is an environment value; mount the secret and set {var['name']}_FILE"
        value = var.get("value") or ""
        for ref in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", value):
            if ref not in defined:
                yield f"{name}: {var['name']} uses $({ref}) before it is defined (Kubernetes leaves it as is)"
        if var["name"].endswith("_FILE") and not any(value.startswith(m) for m in mounts):
            yield f"{name}: {var['name']}={value} is under no volume mount"
        defined.add(var["name"])
    probes = {p: ((container.get(p) or {}).get("httpGet") or {}).get("path") for p in ("readinessProbe", "livenessProbe")}
    if probes != {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}:
        yield f"{name}: probes are {probes}; readiness must be /readyz (503 while draining), liveness /healthz"


def fleet_rules(docs, pod, config):
    """The drain fits the grace period; the Redis-down divisor covers the autoscaler."""
    try:
        drain = int(config["JIRA_MCP_HTTP_DRAIN_DELAY_SECS"]) + int(config["JIRA_MCP_HTTP_DRAIN_SECS"])
    except (KeyError, ValueError) as e:
        yield f"the ConfigMap lacks a numeric drain setting ({e})"
    else:
        grace = int(pod.get("terminationGracePeriodSeconds", 30))
        if grace < drain + GRACE_MARGIN_SECS:
            yield (
                f"terminationGracePeriodSeconds {grace} < drain delay + drain + {GRACE_MARGIN_SECS} = "
                f"{drain + GRACE_MARGIN_SECS}: the kubelet would kill calls the server is still draining"
            )
    hpa = one(docs, "HorizontalPodAutoscaler")
    replicas = config.get("JIRA_MCP_FLEET_REPLICAS", "")
    if hpa is not None and not (replicas.isdigit() and int(replicas) >= hpa["spec"]["maxReplicas"]):
        yield (
            f"JIRA_MCP_FLEET_REPLICAS={replicas or 'unset'} < the autoscaler's maxReplicas "
            f"{hpa['spec']['maxReplicas']}: without Redis the fleet would exceed the Jira rate"
        )


def selector_rules(docs, deploy):
    """Every selector selects the pods; no NetworkPolicy peer selector carries our own label."""
    pod_labels = deploy["spec"]["template"]["metadata"].get("labels") or {}
    targets = [("Deployment", deploy["spec"]["selector"])]
    for d in docs:
        if d.get("kind") in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
            targets.append((f"{d['kind']} {d['metadata']['name']}", d["spec"].get("selector") or d["spec"].get("podSelector")))
    for what, selector in targets:
        labels = (selector or {}).get("matchLabels") or selector or {}
        if not labels or any(pod_labels.get(k) != v for k, v in labels.items()):
            yield f"{what}: its selector {selector} does not select the pods (labels {pod_labels})"
    for np in (d for d in docs if d.get("kind") == "NetworkPolicy"):
        for rule in (np["spec"].get("ingress") or []) + (np["spec"].get("egress") or []):
            for peer in rule.get("from") or rule.get("to") or []:
                peer_labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
                if peer_labels.get(OUR_LABEL) == OUR_NAME:
                    yield (
                        f"NetworkPolicy {np['metadata']['name']}: the peer selector {peer_labels} carries our own "
                        "label (kustomize includeSelectors?), so it matches no peer"
                    )


def policy(docs):
    problems = list(no_secrets(docs))
    deploy = one(docs, "Deployment")
    if deploy is None:
        return problems + ["expected exactly one Deployment"]
    pod = deploy["spec"]["template"]["spec"]
    config = {k: v for cm in configmaps(docs) for k, v in (cm.get("data") or {}).items()}
    containers = pod.get("containers") or []
    mounts = [m["mountPath"].rstrip("/") + "/" for c in containers for m in c.get("volumeMounts") or []]
    for container in containers:
        problems += container_rules(docs, container, mounts)
    problems += fleet_rules(docs, pod, config)
    problems += selector_rules(docs, deploy)
    return problems


def mutate(name, docs):
    deploy = one(docs, "Deployment")
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    if name == "unknown-field":
        container["securityContext"]["privilegd"] = True
    elif name == "privileged":
        container["securityContext"].update(privileged=True, allowPrivilegeEscalation=True)
    elif name == "secret-env":
        container["env"].append({"name": "JIRA_API_TOKEN", "value": "not-a-real-token"})
    elif name == "short-grace":
        deploy["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 10
    elif name == "peer-selector":
        np = next(d for d in docs if d.get("kind") == "NetworkPolicy")
        np["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"][OUR_LABEL] = OUR_NAME
    elif name == "relative-telemetry":
        for cm in configmaps(docs):
            cm["data"]["JIRA_MCP_TELEMETRY_DB"] = "telemetry.db"
    elif name == "hpa-max":
        one(docs, "HorizontalPodAutoscaler")["spec"]["maxReplicas"] = 12
    elif name == "env-order":
        env = container["env"]
        env.append(env.pop(next(i for i, v in enumerate(env) if v["name"] == "POD_IP")))
    else:
        sys.exit(f"unknown mutant {name}")
    return docs


def checkov(report_path, docs_path):
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    reports = report if isinstance(report, list) else [report]
    keys = ("passed", "failed", "skipped", "parsing_errors", "resource_count")
    summary = {k: sum(r["summary"][k] for r in reports) for k in keys}
    docs = load(docs_path)
    failed = [f"{c['check_id']} {c['check_name']} ({c['resource']})" for r in reports for c in r["results"]["failed_checks"]]
    print(
        f"checkov {docs_path.rsplit('/', 1)[-1]}: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['skipped']} skipped over {summary['resource_count']} resources"
    )
    for line in failed:
        print(f"  FAILED {line}")
    # checkov counts a Pod per Deployment and has checks for only some kinds: every object must
    # have been parsed, and the workload itself must have been checked.
    checked = {c["resource"] for r in reports for key in ("passed_checks", "failed_checks") for c in r["results"][key]}
    workloads = {
        f"Deployment.{d['metadata'].get('namespace', 'default')}.{d['metadata']['name']}"
        for d in docs
        if d.get("kind") == "Deployment"
    }
    if summary["parsing_errors"] or summary["resource_count"] < len(docs) or not workloads <= checked:
        print(
            f"  checkov parsed {summary['resource_count']} resources for {len(docs)} objects "
            f"({summary['parsing_errors']} parsing errors); unchecked: {sorted(workloads - checked)}"
        )
        return 1
    return 1 if failed else 0


def main(argv):
    if len(argv) == 2 and argv[0] == "policy":
        problems = policy(load(argv[1]))
        for p in problems:
            print(f"policy: {p}")
        return 1 if problems else 0
    if len(argv) == 4 and argv[0] == "mutate":
        with open(argv[3], "w", encoding="utf-8") as f:
            yaml.safe_dump_all(mutate(argv[1], load(argv[2])), f, sort_keys=False)
        return 0
    if len(argv) == 3 and argv[0] == "checkov":
        return checkov(argv[1], argv[2])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

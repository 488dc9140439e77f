#!/usr/bin/env python3
"""Semantic checks of deploy/ that no schema knows (run by scripts/check-deploy.sh).

- Every TOML key and MOSAIC_* variable that a deploy file sets is a flag of
  `mosaic` (read from ServeArgs in src/config.rs); unknown TOML keys would
  stop the node at start (deny_unknown_fields).
- No cluster address binds 0.0.0.0 or ::, since a node advertises exactly
  the address it binds; compose nodes bind their own fixed IP, Kubernetes
  pods their $(POD_IP), and the headless Service they discover through
  publishes not-ready pods.
- The metrics port is 9464 everywhere, probes ask /readyz and /healthz.
- The Grafana dashboard and the Prometheus rules: every expression parses
  (promql-parser), names only MosaicDB's metrics (plus `up`), and every
  metric has a panel.
- kustomization.yaml lists exactly the manifests of deploy/kubernetes/.

Prints one line per failure and exits 1 if there was any.
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
from pathlib import Path

import tomllib  # Python 3.11+

import promql_parser
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
METRICS_PORT = 9464

# The metrics that --metrics-addr serves (name: type), read from
# src/observe.rs: each `pub const NAME: &str = "mosaic_..."` with the
# describe_counter!/describe_gauge!/describe_histogram! that names it, so a
# metric added there needs a panel here.
def served_metrics() -> dict[str, str]:
    src = (ROOT / "src" / "observe.rs").read_text()
    names = dict(re.findall(r'pub const (\w+): &str = "(mosaic_\w+)";', src))
    kinds = re.findall(r"describe_(counter|gauge|histogram)!\(\s*(\w+)", src)
    out = {names[const]: kind for kind, const in kinds if const in names}
    if not out or set(out) != set(names.values()):
        raise SystemExit("src/observe.rs: every metric name needs its describe_*! call")
    return out


METRICS = served_metrics()
# Series Prometheus itself adds to every target.
SYNTHETIC = {"up"}

failures: list[str] = []


def fail(where: str, what: str) -> None:
    failures.append(f"{where}: {what}")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# ---------------------------------------------------------------- flags


def known_flags() -> tuple[set[str], set[str]]:
    """(TOML keys, MOSAIC_* variables) of ServeArgs in src/config.rs."""
    src = (ROOT / "src" / "config.rs").read_text()
    m = re.search(r"pub struct ServeArgs \{(.*?)\n\}", src, re.S)
    if not m:
        fail("src/config.rs", "cannot find `pub struct ServeArgs`")
        return set(), set()
    body = m.group(1)
    keys: set[str] = set()
    envs: set[str] = set()
    # Each field: its attributes, then `pub name: Option<...>,`.
    for attrs, name in re.findall(r"((?:\s*(?:///[^\n]*|#\[[^\n]*\]))*)\s*pub (\w+):", body):
        envs.update(re.findall(r'env = "(MOSAIC_\w+)"', attrs))
        if "serde(skip)" not in attrs:
            keys.add(name.replace("_", "-"))
    if not keys or not envs:
        fail("src/config.rs", "found no flags in ServeArgs")
    return keys, envs


def socket_addr(value: str) -> tuple[str, int] | None:
    """HOST:PORT or [V6]:PORT as Rust's SocketAddr parses it, else None."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)|([0-9.]+):(\d+)", value)
    if not m:
        return None
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return (host, port) if port < 65536 else None


def check_toml(where: str, text: str, keys: set[str]) -> dict:
    try:
        conf = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        fail(where, f"invalid TOML: {e}")
        return {}
    for key in conf:
        if key not in keys:
            fail(where, f"unknown key {key!r} (mosaic would refuse to start)")
    for key in ("listen", "cluster-addr", "metrics-addr"):
        if key in conf and socket_addr(str(conf[key])) is None:
            fail(where, f"{key} = {conf[key]!r} is not an IP:PORT address")
    check_cluster_addr(where, conf.get("cluster-addr"))
    if "metrics-addr" in conf:
        addr = socket_addr(str(conf["metrics-addr"]))
        if addr and addr[1] != METRICS_PORT:
            fail(where, f"metrics-addr port is {addr[1]}, not {METRICS_PORT}")
    return conf


def check_cluster_addr(where: str, value: str | None) -> None:
    if value is None:
        return
    host = value.rsplit(":", 1)[0].strip("[]")
    if host in ("0.0.0.0", "::"):
        fail(where, f"cluster address {value}: a node advertises what it binds, "
                    "so peers would dial an unspecified address")


def check_env(where: str, names, envs: set[str]) -> None:
    for name in names:
        if name.startswith("MOSAIC_") and name not in envs:
            fail(where, f"{name} is not a variable mosaic reads")


# ---------------------------------------------------------------- files


def load_yaml_docs(path: Path) -> list:
    try:
        return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except yaml.YAMLError as e:
        fail(rel(path), f"invalid YAML: {e}")
        return []


def check_dockerfile(envs: set[str]) -> None:
    where = "deploy/Dockerfile"
    text = (DEPLOY / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    env_keys = []
    for line in joined.splitlines():
        if line.startswith("ENV "):
            pairs = dict(re.findall(r"(\w+)=(\S+)", line))
            env_keys += list(pairs)
            if pairs.get("MOSAIC_METRICS_ADDR", f":{METRICS_PORT}").rsplit(":", 1)[1] != str(METRICS_PORT):
                fail(where, f"MOSAIC_METRICS_ADDR is not on port {METRICS_PORT}")
            check_cluster_addr(where, pairs.get("MOSAIC_CLUSTER_ADDR"))
    check_env(where, env_keys, envs)
    expose = re.search(r"^EXPOSE (.*)$", text, re.M)
    ports = set(expose.group(1).split()) if expose else set()
    for port in ("5432", "7946/tcp", "7946/udp", str(METRICS_PORT)):
        if port not in ports:
            fail(where, f"EXPOSE lacks {port}")
    if not re.search(r'^ENTRYPOINT \["mosaic"\]', text, re.M):
        fail(where, 'ENTRYPOINT is not ["mosaic"]')
    if "mosaic-healthcheck" not in text or "HEALTHCHECK" not in text:
        fail(where, "no HEALTHCHECK running mosaic-healthcheck")
    pinned = re.search(r'^channel = "([^"]+)"', (ROOT / "rust-toolchain.toml").read_text(), re.M)
    image = re.search(r"^ARG RUST_IMAGE=rust:(\S+)-bookworm$", text, re.M)
    if not pinned or not image or image.group(1) != pinned.group(1):
        fail(where, "the builder image's Rust is not the toolchain rust-toolchain.toml pins")


def check_build_context() -> None:
    """The builder stage copies every file the release build reads: the
    paths Cargo.toml names and what src/ includes at compile time."""
    where = "deploy/Dockerfile"
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    builder = text.split(" AS builder", 1)[1].split("\nFROM ", 1)[0]
    copied = []
    for line in builder.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied += [a for a in line.split()[1:-1] if not a.startswith("--")]
    copied_paths = [ROOT / c for c in copied]

    def inside(path: Path) -> bool:
        path = path.resolve()
        return any(path == c.resolve() or c.resolve() in path.parents for c in copied_paths)

    for c in copied_paths:
        if not c.exists():
            fail(where, f"COPY {rel(c)}: no such file in the repository")
    needed = [ROOT / "Cargo.toml", ROOT / "Cargo.lock"]
    needed += [ROOT / p for p in re.findall(r'^path = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)]
    for rs in (ROOT / "src").rglob("*.rs"):
        for inc in re.findall(r'include_(?:str|bytes)!\(\s*"([^"]+)"', rs.read_text()):
            needed.append(rs.parent / inc)
    for path in needed:
        if not inside(path):
            fail(where, f"the builder stage does not copy {rel(path.resolve())}, which the build reads")


def check_compose(envs: set[str]) -> None:
    path = DEPLOY / "docker-compose.yml"
    where = rel(path)
    docs = load_yaml_docs(path)
    if not docs:
        return
    compose = docs[0]
    default_prefix = "172.28.5"

    def interpolate(v: str) -> str:
        return re.sub(r"\$\{MOSAIC_NET_PREFIX:-([0-9.]+)\}", r"\1", str(v))

    nodes = {n: s for n, s in compose.get("services", {}).items() if "mosaic-healthcheck" in json.dumps(s)}
    if len(nodes) != 3:
        fail(where, f"expected 3 MosaicDB services, found {sorted(nodes)}")
    subnet = compose.get("networks", {}).get("mosaic", {}).get("ipam", {}).get("config", [{}])[0].get("subnet")
    if not subnet:
        fail(where, "network mosaic has no ipam subnet for the nodes' fixed addresses")
        return
    net = ipaddress.ip_network(interpolate(subnet))
    if not interpolate(subnet).startswith(default_prefix):
        fail(where, "subnet default is not " + default_prefix)
    for name, svc in nodes.items():
        env = svc.get("environment", {})
        check_env(f"{where} {name}", env, envs)
        if env.get("MOSAIC_NODE_NAME") != name:
            fail(where, f"{name}: MOSAIC_NODE_NAME is not {name}")
        addr = interpolate(env.get("MOSAIC_CLUSTER_ADDR", ""))
        ip = interpolate(svc.get("networks", {}).get("mosaic", {}).get("ipv4_address", ""))
        check_cluster_addr(f"{where} {name}", addr)
        if addr != f"{ip}:7946":
            fail(where, f"{name}: MOSAIC_CLUSTER_ADDR {addr!r} is not its ipv4_address {ip!r} port 7946")
        elif ipaddress.ip_address(ip) not in net:
            fail(where, f"{name}: {ip} is outside {net}")
        if "mosaic1:7946" not in env.get("MOSAIC_JOIN", ""):
            fail(where, f"{name}: MOSAIC_JOIN does not name mosaic1:7946")
        if "mosaic.env" not in svc.get("env_file", []):
            fail(where, f"{name}: the secrets' env_file mosaic.env is not used")
    env_example = DEPLOY / "mosaic.env.example"
    names = [ln.split("=", 1)[0] for ln in env_example.read_text().splitlines()
             if ln and not ln.startswith("#") and "=" in ln]
    check_env(rel(env_example), names, envs)
    for needed in ("MOSAIC_CLUSTER_SECRET", "MOSAIC_PASSWORD"):
        if needed not in names:
            fail(rel(env_example), f"lacks {needed}")


def check_kubernetes(keys: set[str], envs: set[str]) -> None:
    kdir = DEPLOY / "kubernetes"
    kust = yaml.safe_load((kdir / "kustomization.yaml").read_text())
    listed = set(kust.get("resources", []))
    present = {p.name for p in kdir.glob("*.yaml")} - {"kustomization.yaml"}
    for name in sorted(listed - present):
        fail("deploy/kubernetes/kustomization.yaml", f"lists {name}, which does not exist")
    for name in sorted(present - listed):
        fail("deploy/kubernetes/kustomization.yaml", f"does not list {name}")

    objs = {}
    for path in sorted(kdir.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in load_yaml_docs(path):
            objs[(doc.get("kind"), doc.get("metadata", {}).get("name"))] = doc
    where = "deploy/kubernetes"
    sts = objs.get(("StatefulSet", "mosaic"))
    cm = objs.get(("ConfigMap", "mosaic-config"))
    if not sts or not cm:
        fail(where, "StatefulSet mosaic or ConfigMap mosaic-config missing")
        return
    conf = check_toml("deploy/kubernetes/configmap.yaml mosaic.toml", cm["data"]["mosaic.toml"], keys)
    if conf.get("metrics-addr") is None:
        fail(where, "mosaic.toml sets no metrics-addr")
    headless_name = sts["spec"]["serviceName"]
    headless = objs.get(("Service", headless_name))
    if not headless:
        fail(where, f"serviceName {headless_name} is not a Service here")
    else:
        if headless["spec"].get("clusterIP") != "None":
            fail(where, f"Service {headless_name} is not headless")
        if headless["spec"].get("publishNotReadyAddresses") is not True:
            fail(where, f"Service {headless_name} must publish not-ready pods, or a starting "
                        "node (not ready until it caught up) finds no peer")
    pod = sts["spec"]["template"]["spec"]
    (ctr,) = [c for c in pod["containers"] if c["name"] == "mosaic"]
    env = {e["name"]: e for e in ctr.get("env", [])}
    check_env(where + " statefulset env", env, envs)

    def field(name: str) -> str | None:
        return env.get(name, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")

    if field("POD_IP") != "status.podIP":
        fail(where, "POD_IP does not come from status.podIP")
    if env.get("MOSAIC_CLUSTER_ADDR", {}).get("value") != "$(POD_IP):7946":
        fail(where, "MOSAIC_CLUSTER_ADDR must be $(POD_IP):7946 (peers dial the advertised bind address)")
    discover = env.get("MOSAIC_DISCOVER", {}).get("value", "")
    want = f"dns:{headless_name}.$(POD_NAMESPACE).svc.cluster.local:7946"
    if discover != want:
        fail(where, f"MOSAIC_DISCOVER is {discover!r}, expected {want!r}")
    if field("POD_NAMESPACE") != "metadata.namespace":
        fail(where, "POD_NAMESPACE does not come from metadata.namespace")
    if env.get("MOSAIC_NODE_NAME", {}).get("value") != "$(POD_NAME)" or field("POD_NAME") != "metadata.name":
        fail(where, "MOSAIC_NODE_NAME is not the pod's name")
    for secret_var in ("MOSAIC_CLUSTER_SECRET", "MOSAIC_PASSWORD"):
        ref = env.get(secret_var, {}).get("valueFrom", {}).get("secretKeyRef", {})
        secret = objs.get(("Secret", ref.get("name")))
        if not secret or ref.get("key") not in {**secret.get("stringData", {}), **secret.get("data", {})}:
            fail(where, f"{secret_var} does not come from a key of a Secret here")
    if pod.get("enableServiceLinks") is not False:
        fail(where, "enableServiceLinks must be false (a Service named mosaic injects MOSAIC_* variables)")
    if ctr.get("args") != ["--config", "/etc/mosaic/mosaic.toml"]:
        fail(where, "container args are not --config /etc/mosaic/mosaic.toml")
    mounts = {m["mountPath"]: m["name"] for m in ctr.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    if vols.get(mounts.get("/etc/mosaic"), {}).get("configMap", {}).get("name") != "mosaic-config":
        fail(where, "ConfigMap mosaic-config is not mounted at /etc/mosaic")
    if mounts.get("/var/lib/mosaic") not in {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}:
        fail(where, "/var/lib/mosaic is not a volumeClaimTemplate")
    ports = {p["name"]: p for p in ctr.get("ports", [])}
    if ports.get("metrics", {}).get("containerPort") != METRICS_PORT:
        fail(where, f"container port metrics is not {METRICS_PORT}")
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/healthz")):
        get = ctr.get(probe, {}).get("httpGet", {})
        port = get.get("port")
        port = ports.get(port, {}).get("containerPort") if isinstance(port, str) else port
        if get.get("path") != path or port != METRICS_PORT:
            fail(where, f"{probe} is not GET {path} on port {METRICS_PORT}")
    sc = ctr.get("securityContext", {})
    if not (pod.get("securityContext", {}).get("runAsNonRoot") and sc.get("readOnlyRootFilesystem")
            and sc.get("allowPrivilegeEscalation") is False):
        fail(where, "pod is not non-root with a read-only root filesystem")
    if pod.get("terminationGracePeriodSeconds", 30) < 60:
        fail(where, "terminationGracePeriodSeconds under 60 leaves little time to hand off")
    ann = sts["spec"]["template"]["metadata"].get("annotations", {})
    if ann.get("prometheus.io/port") != str(METRICS_PORT):
        fail(where, f"prometheus.io/port annotation is not {METRICS_PORT}")
    pdb = [o for (k, _), o in objs.items() if k == "PodDisruptionBudget"]
    if not pdb or pdb[0]["spec"].get("maxUnavailable") != 1:
        fail(where, "no PodDisruptionBudget with maxUnavailable 1")


def check_systemd(keys: set[str], envs: set[str]) -> None:
    unit = (DEPLOY / "systemd" / "mosaic.service").read_text()
    where = "deploy/systemd/mosaic.service"
    settings: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            k, v = line.split("=", 1)
            settings.setdefault(k.strip(), []).append(v.strip())
    want = {
        "ExecStart": "/usr/local/bin/mosaic --config /etc/mosaic/mosaic.toml",
        "EnvironmentFile": "/etc/mosaic/mosaic.env",
        "StateDirectory": "mosaic",
        "KillSignal": "SIGTERM",
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "CapabilityBoundingSet": "",
    }
    for k, v in want.items():
        if v not in settings.get(k, []):
            fail(where, f"{k}={v} missing")
    for env_line in settings.get("Environment", []):
        check_env(where, [e.split("=", 1)[0] for e in env_line.split()], envs)
    conf = check_toml("deploy/systemd/mosaic.toml", (DEPLOY / "systemd" / "mosaic.toml").read_text(), keys)
    if conf.get("data") != "/var/lib/mosaic":
        fail("deploy/systemd/mosaic.toml", "data is not /var/lib/mosaic (the unit's StateDirectory)")
    for k in ("cluster-addr", "metrics-addr"):
        if k not in conf:
            fail("deploy/systemd/mosaic.toml", f"sets no {k}")


# ---------------------------------------------------------------- PromQL


def metric_names(where: str, expr: str) -> set[str]:
    """Parse `expr` (Grafana variables filled in) and return its metric names."""
    filled = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
    filled = re.sub(r"\$\{?(\w+)\}?", ".*", filled)
    try:
        ast = promql_parser.parse(filled)
    except Exception as e:  # the parser raises ValueError with the reason
        fail(where, f"PromQL does not parse ({e}): {expr}")
        return set()
    names: set[str] = set()

    def pre(node):
        if isinstance(node, promql_parser.VectorSelector):
            if not node.name:
                fail(where, f"a selector without a metric name: {expr}")
            else:
                names.add(node.name)

    promql_parser.walk(ast, pre)
    for name in names:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name in METRICS or name in SYNTHETIC:
            if METRICS.get(name) == "histogram":
                fail(where, f"{name} is a histogram: use its _bucket, _sum or _count series")
            continue
        if METRICS.get(base) == "histogram":
            continue
        fail(where, f"unknown metric {name} in: {expr}")
    return {re.sub(r"_(bucket|sum|count)$", "", n) if METRICS.get(re.sub(r"_(bucket|sum|count)$", "", n)) == "histogram" else n
            for n in names}


def check_dashboard() -> None:
    path = DEPLOY / "grafana" / "mosaic-dashboard.json"
    where = rel(path)
    try:
        dash = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        fail(where, f"invalid JSON: {e}")
        return
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        fail(where, "schemaVersion missing or older than 36")
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    ds_vars = [n for n, v in variables.items() if v.get("type") == "datasource" and v.get("query") == "prometheus"]
    if not ds_vars:
        fail(where, "no Prometheus datasource variable")
    if variables.get("instance", {}).get("type") != "query":
        fail(where, "no `instance` query variable")
    ds_refs = {f"${{{n}}}" for n in ds_vars} | {f"${n}" for n in ds_vars}
    used: set[str] = set()
    ids: set[int] = set()
    cells: dict[tuple[int, int], str] = {}

    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dash.get("panels", [])):
        title = f"{where} panel {p.get('title')!r}"
        if p.get("id") in ids:
            fail(title, f"duplicate panel id {p.get('id')}")
        ids.add(p.get("id"))
        gp = p.get("gridPos", {})
        if not all(isinstance(gp.get(k), int) for k in ("h", "w", "x", "y")) or gp["x"] + gp["w"] > 24:
            fail(title, f"bad gridPos {gp}")
        else:
            for cy in range(gp["y"], gp["y"] + gp["h"]):
                for cx in range(gp["x"], gp["x"] + gp["w"]):
                    if (cx, cy) in cells:
                        fail(title, f"overlaps panel {cells[(cx, cy)]!r}")
                        break
                    cells[(cx, cy)] = str(p.get("title"))
                else:
                    continue
                break
        if p.get("type") == "row":
            continue
        targets = p.get("targets", [])
        if not targets:
            fail(title, "no queries")
        for t in targets:
            ds = (t.get("datasource") or p.get("datasource") or {}).get("uid")
            if ds not in ds_refs:
                fail(title, f"datasource {ds!r} is not the datasource variable")
            if not t.get("expr"):
                fail(title, "a query without expr")
                continue
            used |= metric_names(title, t["expr"])
    for v in variables.values():
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.fullmatch(r"label_values\((\w+)\s*,\s*\w+\)", q or "")
        if v.get("type") == "query" and (not m or m.group(1) not in METRICS):
            fail(f"{where} variable {v['name']}", f"query {q!r} is not label_values over a MosaicDB metric")
    for name in sorted(set(METRICS) - used):
        fail(where, f"no panel shows {name}")


def check_prometheus() -> None:
    pdir = DEPLOY / "prometheus"
    conf = (load_yaml_docs(pdir / "prometheus.yml") or [{}])[0]
    targets = [t for sc in conf.get("scrape_configs", []) for s in sc.get("static_configs", [])
               for t in s.get("targets", [])]
    if sorted(targets) != [f"mosaic{i}:{METRICS_PORT}" for i in (1, 2, 3)]:
        fail("deploy/prometheus/prometheus.yml", f"targets {targets} are not mosaic1..3:{METRICS_PORT}")
    rules = (load_yaml_docs(pdir / "alerts.yml") or [{}])[0]
    groups = rules.get("groups", [])
    if not groups:
        fail("deploy/prometheus/alerts.yml", "no rule groups")
    for g in groups:
        for r in g.get("rules", []):
            where = f"deploy/prometheus/alerts.yml {r.get('alert') or r.get('record')}"
            if not (r.get("alert") or r.get("record")) or not r.get("expr"):
                fail(where, "a rule needs alert (or record) and expr")
                continue
            metric_names(where, r["expr"])


def main() -> int:
    keys, envs = known_flags()
    check_dockerfile(envs)
    check_build_context()
    check_compose(envs)
    check_kubernetes(keys, envs)
    check_systemd(keys, envs)
    check_dashboard()
    check_prometheus()
    for f in failures:
        print(f"FAIL {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

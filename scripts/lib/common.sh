# shellcheck shell=bash disable=SC2034 # (the exit codes are used by the scripts that source this)
# Shared by the operator scripts: logging, exit codes, the cluster-name rule, time bounds and
# tool checks. Source it; it defines functions and constants only.
#
# Exit codes (the same in every script; the README lists them):
#   0  success
#   2  bad input (arguments, names, environment values)
#   3  a required tool is missing, or the container engine's daemon is unreachable
#   4  a time bound was exceeded
#   5  the operation failed (a half-created cluster is deleted before exiting)
#   6  an existing cluster is unhealthy or differs from what was asked; nothing was changed
#   7  the cluster does not exist on this machine; nothing was changed
#   8  not confirmed; nothing was changed

# The C locale makes [a-z] mean ASCII a to z (never a locale's look-alike letters) and keeps
# tool output stable for parsing.
export LC_ALL=C

readonly EXIT_BAD_INPUT=2
readonly EXIT_MISSING_TOOL=3
readonly EXIT_TIMEOUT=4
readonly EXIT_FAILED=5
readonly EXIT_REFUSED=6
readonly EXIT_NOT_FOUND=7
readonly EXIT_NOT_CONFIRMED=8

# Must agree with infra/settings.py (CLUSTER_NAME_PATTERN, CLUSTER_NAME_MAX_LENGTH);
# tests/scripts/test_name_rule.py checks that both accept exactly the same names.
readonly CLUSTER_NAME_RE='^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'
readonly CLUSTER_NAME_MAX=40

SCRIPT_NAME=$(basename -- "$0")
readonly SCRIPT_NAME

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }

die() {
  local code=$1
  shift
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit "$code"
}

# validate_cluster_name NAME: exits 2 with the reason unless NAME is a safe kind cluster name.
validate_cluster_name() {
  local name=$1
  if [[ -z $name ]]; then
    die "$EXIT_BAD_INPUT" "cluster name is empty; use a lowercase name such as 'studio'"
  fi
  if ((${#name} > CLUSTER_NAME_MAX)); then
    die "$EXIT_BAD_INPUT" "cluster name is ${#name} characters; at most $CLUSTER_NAME_MAX are allowed"
  fi
  if [[ $name == -* ]]; then
    die "$EXIT_BAD_INPUT" "cluster name '$name' starts with '-'; start it with a lowercase letter or digit"
  fi
  if ! [[ $name =~ $CLUSTER_NAME_RE ]]; then
    die "$EXIT_BAD_INPUT" "cluster name '$(printf '%q' "$name")' is not a lowercase DNS-1123 label (a-z, 0-9, '-' not first or last)"
  fi
}

# validate_seconds NAME VALUE: a whole number of seconds from 1 to 86400.
validate_seconds() {
  local name=$1 value=$2
  if ! [[ $value =~ ^[0-9]+$ ]] || ((10#$value < 1 || 10#$value > 86400)); then
    die "$EXIT_BAD_INPUT" "$name must be a whole number of seconds from 1 to 86400, got '$value'"
  fi
}

# validate_port NAME VALUE: a TCP port number from 1 to 65535.
validate_port() {
  local name=$1 value=$2
  if ! [[ $value =~ ^[0-9]{1,5}$ ]] || ((10#$value < 1 || 10#$value > 65535)); then
    die "$EXIT_BAD_INPUT" "$name must be a port number from 1 to 65535, got '$(printf '%q' "$value")'"
  fi
}

# start_deadline SECONDS: every later `bounded` call shares this overall budget.
start_deadline() {
  DEADLINE=$((SECONDS + $1))
  BOUND=$1
}

remaining() {
  local left=$((DEADLINE - SECONDS))
  ((left > 0)) || left=0
  printf '%s' "$left"
}

# bounded CMD...: run CMD under `timeout` with what is left of the deadline (at most
# STEP_LIMIT seconds if set). timeout signals the whole process group, so grandchildren of a
# hung tool go too. Returns CMD's status, or exits 4 when the time is up.
bounded() {
  local left
  left=$(remaining)
  if ((left <= 0)); then
    on_timeout "$*"
  fi
  if [[ -n ${STEP_LIMIT:-} ]] && ((STEP_LIMIT < left)); then
    left=$STEP_LIMIT
  fi
  local status=0
  timeout --kill-after=5 "$left" "$@" || status=$?
  if ((status == 124 || status == 137)) && (($(remaining) <= 0)); then
    on_timeout "$*"
  fi
  return "$status"
}

# Scripts may redefine on_timeout to clean up first; it must exit.
on_timeout() {
  die "$EXIT_TIMEOUT" "gave up after ${BOUND}s (the time bound) while running: $1"
}

require_tool() {
  local tool=$1 hint=$2
  command -v -- "$tool" >/dev/null 2>&1 || die "$EXIT_MISSING_TOOL" "'$tool' is not on PATH; $hint"
}

# container_engine: prints docker or podman (the one kind will use), or exits 3.
container_engine() {
  if [[ ${KIND_EXPERIMENTAL_PROVIDER:-} == podman ]] && command -v podman >/dev/null 2>&1; then
    printf podman
  elif command -v docker >/dev/null 2>&1; then
    printf docker
  elif command -v podman >/dev/null 2>&1; then
    printf podman
  else
    die "$EXIT_MISSING_TOOL" "neither docker nor podman is on PATH; install Docker Engine 24+ or Podman 4.9+"
  fi
}

# require_engine_daemon ENGINE: exits 3 unless the engine answers within 20 seconds.
require_engine_daemon() {
  local engine=$1
  if ! timeout --kill-after=5 20 "$engine" info >/dev/null 2>&1; then
    die "$EXIT_MISSING_TOOL" "'$engine info' did not answer within 20s; start the $engine daemon (or Docker Desktop) and check that this user may use it"
  fi
}

# cluster_exists NAME: true when kind lists the cluster on this machine, false when it does
# not. When kind cannot list clusters at all the script stops (exit 5): guessing "absent"
# would lead to creating, and cleaning up, a cluster that is in fact there.
cluster_exists() {
  local name=$1 clusters status=0
  clusters=$(bounded kind get clusters) || status=$?
  if ((status != 0)); then
    ((status != EXIT_TIMEOUT)) || exit "$EXIT_TIMEOUT"
    die "$EXIT_FAILED" "'kind get clusters' failed (status $status); nothing was changed"
  fi
  grep -qxF -- "$name" <<<"$clusters"
}

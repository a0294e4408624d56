# shellcheck shell=bash disable=SC2034 # (the exit codes are used by the scripts that source this)
# Shared by the operator scripts: logging, exit codes, the cluster-name rule, numbers, time
# bounds, interrupts and tool checks. Source it; it defines functions and constants only (a
# script opts in to the interrupt handling with start_run).
#
# Exit codes (the same in every script; the README lists them):
#   0    success
#   1    a check found something to fix (scripts/preflight; scripts/up stops there)
#   2    bad input (arguments, names, environment values)
#   3    a required tool is missing, or the container engine's daemon is unreachable
#   4    a time bound was exceeded (what this run created is removed first)
#   5    the operation failed (what this run created is removed first)
#   6    an existing cluster is unhealthy or differs from what was asked, or another process
#        created it while this run was about to; nothing was changed
#   7    the cluster does not exist on this machine; nothing was changed
#   8    not confirmed; nothing was changed
#   129  interrupted by SIGHUP, 130 by SIGINT (Ctrl-C), 143 by SIGTERM (128 + the signal's
#        number): the running tool was stopped and what this run created removed

# The C locale makes [a-z] mean ASCII a to z (never a locale's look-alike letters) and keeps
# tool output stable for parsing.
export LC_ALL=C

readonly EXIT_OK=0
readonly EXIT_CHECK_FAILED=1
readonly EXIT_BAD_INPUT=2
readonly EXIT_MISSING_TOOL=3
readonly EXIT_TIMEOUT=4
readonly EXIT_FAILED=5
readonly EXIT_REFUSED=6
readonly EXIT_NOT_FOUND=7
readonly EXIT_NOT_CONFIRMED=8
readonly EXIT_SIGHUP=129
readonly EXIT_SIGINT=130
readonly EXIT_SIGTERM=143
# What `timeout` returns when the time ran out (124), and when its --kill-after had to kill the
# tool (128 + SIGKILL's number): a tool's statuses, not this project's exit codes.
readonly TIMED_OUT=124
readonly KILLED=137

# Must agree with infra/settings/names.py (CLUSTER_NAME_PATTERN, CLUSTER_NAME_MAX_LENGTH);
# tests/scripts/test_name_rule.py checks that both accept exactly the same names.
readonly CLUSTER_NAME_RE='^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'
readonly CLUSTER_NAME_MAX=40

SCRIPT_NAME=$(basename -- "$0")
readonly SCRIPT_NAME
# Settings of the functions below, never taken from the environment.
unset RUN_OUTPUT RUN_STDOUT RUN_STDERR STEP_LIMIT FORWARD_SIGNAL TIMEOUT_SIGNAL KILL_AFTER TOOL_PID
# The script that runs this one with run_script (it sets PARENT_SCRIPT for this script alone),
# or empty; see interrupted.
RUN_BY=${PARENT_SCRIPT:-}
readonly RUN_BY
unset PARENT_SCRIPT

# usage_if_asked ARGS...: when any argument is -h or --help, print the script's usage on stdout
# and exit 0, before anything runs. Each script calls it first thing in main. Anywhere, not only
# first: `scripts/up studio --help` must not run preflight and create a stack on its way to
# `pulumi up --help`; a script that passes options through to a tool says in its usage where
# that tool's own help is.
usage_if_asked() {
  asks_for_help "$@" || return 0
  print_usage
  exit "$EXIT_OK"
}

# asks_for_help ARGS...: true when any argument is -h or --help.
asks_for_help() {
  local argument
  for argument in "$@"; do
    case $argument in
      -h | --help) return 0 ;;
    esac
  done
  return 1
}

# print_usage: the comment at the top of the script, its one description (what it does, its
# arguments, environment and exit codes), with "usage: " before its first line.
print_usage() {
  local line prefix="usage: "
  while IFS= read -r line; do
    case $line in
      '#!'*) continue ;;
      '#'*) ;;
      *) break ;;
    esac
    line=${line#\#}
    printf '%s%s\n' "$prefix" "${line# }"
    prefix=""
  done <"$0"
}

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }

# die CODE MESSAGE: report the error, remove what this run created (cleanup_this_run), exit.
die() {
  local code=$1
  shift
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
  clean_up
  exit "$code"
}

# cleanup_this_run: a script redefines it to remove what this run created, and only that,
# judged by evidence (see create-kind-cluster, local-registry). It runs at most once, on a
# failure, a timeout or an interrupt; it bounds its own calls with run_for (the overall bound
# may be spent) and it must not exit. LEFT_BEHIND says what it would remove and how, for when a
# second interrupt cuts it short.
cleanup_this_run() { :; }
CLEANING_UP=false
LEFT_BEHIND=""

clean_up() {
  [[ $CLEANING_UP == false ]] || return 0
  CLEANING_UP=true
  run_cleanup
}

run_cleanup() {
  # A failure or an interrupt can come in the middle of a call that redirects its tool or
  # limits its step; none of that applies to the cleanup's own calls.
  local RUN_OUTPUT="" RUN_STDOUT="" RUN_STDERR="" STEP_LIMIT=""
  cleanup_this_run
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

# validate_number NAME VALUE MIN MAX WHAT EXAMPLE: exits 2 unless VALUE is a plain decimal
# number from MIN to MAX. Only the digits 0-9 and no leading zero: bash arithmetic reads 010 as
# octal (8) and fails on 08. At most as many digits as MAX before any arithmetic, so a value
# such as 2^64 + 2 cannot wrap around to a small number.
validate_number() {
  local name=$1 value=$2 min=$3 max=$4 what=$5 example=$6
  if [[ $value =~ ^(0|[1-9][0-9]*)$ ]] && ((${#value} <= ${#max})) &&
    ((10#$value >= min && 10#$value <= max)); then
    return 0
  fi
  local usage="$name=$example"
  [[ $name != -* ]] || usage="$name $example"
  die "$EXIT_BAD_INPUT" "$name must be $what from $min to $max, got '$(printf '%q' "$value")'; write plain decimal digits without a leading zero, such as $usage"
}

# validate_seconds NAME VALUE: a whole number of seconds from 1 to 86400.
validate_seconds() {
  validate_number "$1" "$2" 1 86400 "a whole number of seconds" 600
}

# validate_port NAME VALUE: a TCP port number from 1 to 65535.
validate_port() {
  validate_number "$1" "$2" 1 65535 "a port number" 5001
}

# start_run: a private work directory (removed on exit), and interrupts handled: on HUP, INT or
# TERM the running tool is stopped, cleanup_this_run removes what this run created, and the
# script exits 128 + the signal's number (129, 130, 143).
start_run() {
  trap 'interrupted HUP' HUP
  trap 'interrupted INT' INT
  trap 'interrupted TERM' TERM
  WORK_DIR=$(mktemp -d)
  trap 'rm -rf -- "$WORK_DIR"' EXIT
}

interrupted() {
  local signal=$1 code
  case $signal in
    HUP) code=$EXIT_SIGHUP ;;
    INT) code=$EXIT_SIGINT ;;
    *) code=$EXIT_SIGTERM ;;
  esac
  if [[ $CLEANING_UP == true ]]; then
    # Run by another script (run_script), every signal comes through that script's `timeout`,
    # and every one after the first is the same request to stop: timeout sends a signal twice
    # (to this process, then to its process group) and passes on the next one the parent gets.
    # So the cleanup goes on; the parent's --kill-after bounds it.
    [[ -z $RUN_BY ]] || return 0
    # A second interrupt: stop the cleanup too, and say what it would have removed.
    stop_tool
    log "interrupted again (SIG$signal) while cleaning up; stopped"
    [[ -z $LEFT_BEHIND ]] || log "left behind: $LEFT_BEHIND"
    exit "$code"
  fi
  CLEANING_UP=true
  log "interrupted (SIG$signal); stopping"
  stop_tool
  run_cleanup
  exit "$code"
}

# stop_tool: pass the interrupt to the tool that is running (through its `timeout`, which
# signals the tool's whole process group, and kills it KILL_AFTER seconds later), and wait.
# FORWARD_SIGNAL is TERM, or INT for a tool that stops gracefully on it (pulumi).
stop_tool() {
  [[ -n ${TOOL_PID:-} ]] || return 0
  kill -s "${FORWARD_SIGNAL:-TERM}" "$TOOL_PID" 2>/dev/null || true
  wait_for_tool "$TOOL_PID" || true
  TOOL_PID=""
}

# wait_for_tool PID: wait until the tool PID has ended; returns its status. `wait` also returns
# (above 128) when a trapped signal arrives whose handler does not exit (see interrupted); the
# tool still runs then, and is waited for again.
wait_for_tool() {
  local pid=$1 status
  while :; do
    status=0
    wait "$pid" 2>/dev/null || status=$?
    if ((status <= 128)) || ! kill -0 "$pid" 2>/dev/null; then
      return "$status"
    fi
  done
}

# run_for SECONDS CMD...: run the program CMD under `timeout SECONDS`, in the background, and
# wait for it. `wait` returns as soon as a trapped signal arrives, so an interrupt is handled at
# once (bash holds a trap until a foreground child ends, and `timeout` puts the tool in a
# process group of its own, out of reach of the terminal's Ctrl-C). `<&0` keeps this shell's
# stdin, which bash would replace with /dev/null for a background command.
# RUN_STDOUT, RUN_STDERR (files) or RUN_OUTPUT (both) redirect CMD alone: redirecting the call
# would also catch this script's own messages (a time bound's), and a pipe this shell held open
# would never reach end-of-file. Returns CMD's status (TIMED_OUT when the time ran out).
run_for() {
  local seconds=$1 status=0
  shift
  case $(type -t -- "$1") in
    function | builtin | keyword | alias)
      die "$EXIT_FAILED" "internal error: '$1' is a shell $(type -t -- "$1"), not a program; timeout cannot run it"
      ;;
  esac
  (
    if [[ -n ${RUN_OUTPUT:-} ]]; then exec >"$RUN_OUTPUT" 2>&1; fi
    if [[ -n ${RUN_STDOUT:-} ]]; then exec >"$RUN_STDOUT"; fi
    if [[ -n ${RUN_STDERR:-} ]]; then exec 2>"$RUN_STDERR"; fi
    exec timeout -s "${TIMEOUT_SIGNAL:-TERM}" --kill-after="${KILL_AFTER:-5}" "$seconds" "$@"
  ) <&0 &
  TOOL_PID=$!
  wait_for_tool "$TOOL_PID" || status=$?
  TOOL_PID=""
  return "$status"
}

# Once stopped, a script that run_script runs gets this long to remove what it created before
# its `timeout` kills it: local-registry's cleanup is bounded by 5 + 20 + 30 s (stop its tool,
# inspect the container, remove it).
readonly SCRIPT_CLEANUP_SECONDS=60

# run_script SCRIPT ARGS...: bounded, for one of these scripts. The script learns that it runs
# under this one (PARENT_SCRIPT), so it finishes its cleanup whatever signals follow the first
# (see interrupted), and this one waits for that cleanup longer than for a plain tool.
run_script() {
  PARENT_SCRIPT=$SCRIPT_NAME KILL_AFTER=$SCRIPT_CLEANUP_SECONDS bounded "$@"
}

# start_deadline SECONDS [NAME]: every later `bounded` call shares this overall budget; NAME is
# the setting that sets it, for the message when it runs out.
start_deadline() {
  DEADLINE=$((SECONDS + 10#$1))
  BOUND=$1
  BOUND_NAME=${2:-the time bound}
}

remaining() {
  local left=$((DEADLINE - SECONDS))
  ((left > 0)) || left=0
  printf '%s' "$left"
}

# bounded CMD...: run_for with what is left of the deadline (at most STEP_LIMIT seconds if
# set). Returns CMD's status; when the deadline itself runs out, on_timeout ends the run.
# Never in a subshell ($(...), a pipeline): there a time bound or an interrupt would end only
# the subshell and look like a failure of the command. bounded_capture takes the output.
bounded() {
  local left whole=true status=0
  left=$(remaining)
  if ((left <= 0)); then
    on_timeout "$*"
  fi
  if [[ -n ${STEP_LIMIT:-} ]] && ((STEP_LIMIT < left)); then
    left=$STEP_LIMIT
    whole=false
  fi
  run_for "$left" "$@" || status=$?
  if { ((status == TIMED_OUT)) && [[ $whole == true ]]; } ||
    { ((status == TIMED_OUT || status == KILLED)) && (($(remaining) <= 0)); }; then
    on_timeout "$*"
  fi
  return "$status"
}

# bounded_capture VAR CMD...: bounded, with CMD's stdout in VAR (trailing newlines dropped) and
# its stderr in $WORK_DIR/stderr (show_tool_error prints it).
bounded_capture() {
  local into=$1 status=0
  shift
  RUN_STDOUT=$WORK_DIR/stdout RUN_STDERR=$WORK_DIR/stderr bounded "$@" || status=$?
  printf -v "$into" '%s' "$(<"$WORK_DIR/stdout")"
  return "$status"
}

show_tool_error() {
  [[ ! -s $WORK_DIR/stderr ]] || cat -- "$WORK_DIR/stderr" >&2
}

# Scripts may redefine on_timeout; it must exit.
on_timeout() {
  die "$EXIT_TIMEOUT" "gave up after ${BOUND}s ($BOUND_NAME) while running: $1"
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
  if ! run_for 20 "$engine" info >/dev/null 2>&1; then
    die "$EXIT_MISSING_TOOL" "'$engine info' did not answer within 20s; start the $engine daemon (or Docker Desktop) and check that this user may use it"
  fi
}

# cluster_exists NAME: true when kind lists the cluster on this machine, false when it does
# not. When kind cannot list clusters at all the script stops (exit 5, or 4 on the time bound):
# guessing "absent" would lead to creating, and cleaning up, a cluster that is in fact there.
cluster_exists() {
  local name=$1 clusters status=0
  bounded_capture clusters kind get clusters || status=$?
  if ((status != 0)); then
    show_tool_error
    die "$EXIT_FAILED" "'kind get clusters' failed (status $status); nothing was changed"
  fi
  grep -qxF -- "$name" <<<"$clusters"
}

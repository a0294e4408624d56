# shellcheck shell=bash
# run_python_module MODULE ARGS...: run one of the project's Python tools (infra/ops) with the
# project's own environment, from any working directory. Source lib/common.sh first (die, the
# exit codes, asks_for_help, print_usage). -h/--help (anywhere among the arguments) is the
# tool's own (its options); before .venv exists, the wrapper's header answers it instead.
run_python_module() {
  local repo module=$1
  shift
  repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
  # shellcheck disable=SC2154 # EXIT_*: lib/common.sh, sourced before this file
  if [[ ! -x $repo/.venv/bin/python ]]; then
    if asks_for_help "$@"; then
      print_usage
      printf '%s\n' "Its options: scripts/$SCRIPT_NAME --help, once scripts/test has created .venv."
      exit "$EXIT_OK"
    fi
    die "$EXIT_MISSING_TOOL" "no project environment (.venv); run scripts/test first"
  fi
  PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" exec "$repo/.venv/bin/python" -m "$module" "$@"
}

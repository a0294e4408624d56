# shellcheck shell=bash
# run_python_module MODULE ARGS...: run one of the project's Python tools (infra/ops) with the
# project's own environment, from any working directory. Source lib/common.sh first (die and
# the exit codes).
run_python_module() {
  local repo module=$1
  shift
  repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
  if [[ ! -x $repo/.venv/bin/python ]]; then
    # shellcheck disable=SC2154 # EXIT_MISSING_TOOL: lib/common.sh, sourced before this file
    die "$EXIT_MISSING_TOOL" "no project environment (.venv); run scripts/test first"
  fi
  PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" exec "$repo/.venv/bin/python" -m "$module" "$@"
}

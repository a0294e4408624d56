# shellcheck shell=bash
# run_python_module MODULE ARGS...: run one of the project's Python tools (infra/ops) with the
# project's own environment, from any working directory.
run_python_module() {
  local repo module=$1
  shift
  repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
  if [[ ! -x $repo/.venv/bin/python ]]; then
    printf '%s: error: no project environment (.venv); run scripts/test first\n' \
      "$(basename -- "$0")" >&2
    exit 3
  fi
  PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" exec "$repo/.venv/bin/python" -m "$module" "$@"
}

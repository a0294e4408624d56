# shellcheck shell=bash
# run_python_module MODULE ARGS...: run one of the project's Python tools (infra/ops) with the
# project's own environment, from any working directory.
run_python_module() {
  local repo module=$1
  shift
  repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
  if [[ -x $repo/.venv/bin/python ]]; then
    PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" exec "$repo/.venv/bin/python" -m "$module" "$@"
  elif command -v uv >/dev/null 2>&1; then
    PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" exec uv run --project "$repo" --frozen \
      python -m "$module" "$@"
  else
    printf '%s: error: no project environment; run scripts/test (or uv sync) first\n' \
      "$(basename -- "$0")" >&2
    exit 3
  fi
}

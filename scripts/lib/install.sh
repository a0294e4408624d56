# shellcheck shell=bash
# What scripts/test installs, one function per tool, each a no-op when the tool is already there.
# Source it after lib/common.sh; it defines functions and settings only.
#
# Privileges: system packages need root. As root they run directly; otherwise through
# `sudo -n` (passwordless sudo, as CI runners have); with neither, the script stops with one line
# that says what to run by hand. Every privileged call goes through `timeout`, which runs
# programs, not shell functions: the prefix is an array of words (`sudo -n env ...`), never a
# function.

readonly UV_VERSION=0.13.8
# pyproject's requires-python: uv uses a Python already installed in this range.
readonly SUPPORTED_PYTHON=">=3.11,<3.14"
readonly NGINX_PACKAGE=nginx-light

# Where nginx lands on Debian; a non-root user's PATH often lacks the sbin directories.
SYSTEM_SBIN_DIRS=/usr/sbin:/sbin

# ROOT_PREFIX: the words that run a command as root, set by `root_prefix`.
ROOT_PREFIX=()

# root_prefix: set ROOT_PREFIX to () as root or to (sudo -n) with passwordless sudo; false
# when neither works.
root_prefix() {
  if [[ $(id -u) == 0 ]]; then
    ROOT_PREFIX=()
  elif command -v sudo >/dev/null 2>&1 && timeout 20 sudo -n true >/dev/null 2>&1; then
    ROOT_PREFIX=(sudo -n)
  else
    return 1
  fi
}

# install_debian_packages PACKAGE...: apt-get update, then install the packages (exit 3 on
# failure, with the command to run by hand).
install_debian_packages() {
  local by_hand="apt-get update && apt-get install -y --no-install-recommends $*"
  command -v apt-get >/dev/null 2>&1 ||
    die "$EXIT_MISSING_TOOL" "$* missing and this is not a Debian/Ubuntu machine (no apt-get); install $* with your package manager, then run $SCRIPT_NAME again"
  root_prefix ||
    die "$EXIT_MISSING_TOOL" "$* missing and this user can install no package (not root, no passwordless sudo); run as root: $by_hand"
  log "installing $* (Debian packages)"
  # `env` carries DEBIAN_FRONTEND through sudo, which resets the environment.
  timeout --kill-after=10 600 ${ROOT_PREFIX[@]+"${ROOT_PREFIX[@]}"} env DEBIAN_FRONTEND=noninteractive \
    apt-get update -qq >&2 || die "$EXIT_MISSING_TOOL" "apt-get update failed; run as root: $by_hand"
  timeout --kill-after=10 600 ${ROOT_PREFIX[@]+"${ROOT_PREFIX[@]}"} env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >&2 ||
    die "$EXIT_MISSING_TOOL" "apt-get install $* failed; run as root: $by_hand"
}

# nginx_path: print where nginx is (PATH first, then the sbin directories), or fail.
nginx_path() {
  PATH="$PATH:$SYSTEM_SBIN_DIRS" command -v nginx
}

ensure_nginx() {
  nginx_path >/dev/null && return 0
  install_debian_packages "$NGINX_PACKAGE"
  nginx_path >/dev/null ||
    die "$EXIT_MISSING_TOOL" "$NGINX_PACKAGE was installed but no nginx is on PATH or in $SYSTEM_SBIN_DIRS"
}

# ensure_uv TOOLS_DIR: print the path of uv $UV_VERSION: the one on PATH when it is that
# version, else one installed from PyPI into a virtual environment of its own in TOOLS_DIR/uv
# (never into the system Python, which Debian marks externally managed).
ensure_uv() {
  local venv=$1/uv
  if command -v uv >/dev/null 2>&1 && [[ $(uv --version 2>/dev/null) == "uv $UV_VERSION"* ]]; then
    command -v uv
    return 0
  fi
  if [[ -x $venv/bin/uv ]] && [[ $("$venv/bin/uv" --version 2>/dev/null) == "uv $UV_VERSION"* ]]; then
    printf '%s\n' "$venv/bin/uv"
    return 0
  fi
  command -v python3 >/dev/null 2>&1 ||
    die "$EXIT_MISSING_TOOL" "python3 is missing; install Python 3.11 to 3.13 (Debian: apt-get install python3 python3-venv)"
  log "installing uv $UV_VERSION from PyPI into $venv"
  if ! timeout 120 python3 -m venv --clear "$venv" >&2; then
    # Debian ships venv's pip bootstrap (ensurepip) in a package of its own.
    install_debian_packages python3-venv
    timeout 120 python3 -m venv --clear "$venv" >&2 ||
      die "$EXIT_MISSING_TOOL" "python3 -m venv $venv failed even with python3-venv installed"
  fi
  timeout 300 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "uv==$UV_VERSION" >&2 || die "$EXIT_MISSING_TOOL" "could not install uv $UV_VERSION from PyPI"
  printf '%s\n' "$venv/bin/uv"
}

# ensure_python_environment UV VENV REQUIREMENTS: VENV holds exactly the hash-pinned
# REQUIREMENTS, with bytecode compiled (pulumi_kubernetes is large; where Python writes no
# bytecode at run time, every run would otherwise recompile it: 2.5 s of a 3.1 s program run).
ensure_python_environment() {
  local uv=$1 venv=$2 requirements=$3
  if [[ ! -x $venv/bin/python ]]; then
    log "creating $venv"
    timeout 300 "$uv" venv --quiet --python "$SUPPORTED_PYTHON" "$venv" >&2 ||
      die "$EXIT_MISSING_TOOL" "could not create $venv (Python $SUPPORTED_PYTHON is needed)"
  fi
  log "installing $(basename -- "$requirements") into $venv"
  timeout 900 "$uv" pip sync --quiet --python "$venv/bin/python" --require-hashes \
    --compile-bytecode "$requirements" >&2 ||
    die "$EXIT_MISSING_TOOL" "could not install $requirements into $venv"
}

# ensure_tool_environment NAME EXECUTABLE UV TOOLS_DIR REQUIREMENTS: a tool whose pins conflict
# with the project's (checkov's with pulumi's; mcp-server-qdrant's FastMCP 2 needs mcp 1.x, the
# project pins mcp 2) in an environment of its own, TOOLS_DIR/NAME, exactly as pinned with hashes
# in REQUIREMENTS (the version is the one pinned there). Reinstalled when that file changes; the
# environment is made anew each time (--clear), so an interrupted install is redone.
ensure_tool_environment() {
  local name=$1 executable=$2 uv=$3 venv=$4/$1 requirements=$5
  if [[ -x $venv/bin/$executable ]] &&
    timeout 10 cmp -s -- "$requirements" "$venv/installed-requirements.txt"; then
    return 0
  fi
  log "installing $name ($requirements) into $venv"
  timeout 300 "$uv" venv --quiet --clear --python "$SUPPORTED_PYTHON" "$venv" >&2 ||
    die "$EXIT_MISSING_TOOL" "could not create $venv"
  timeout 900 "$uv" pip sync --quiet --python "$venv/bin/python" --require-hashes \
    --compile-bytecode "$requirements" >&2 ||
    die "$EXIT_MISSING_TOOL" "could not install $requirements into $venv"
  [[ -x $venv/bin/$executable ]] ||
    die "$EXIT_MISSING_TOOL" "$requirements installed into $venv, but it has no bin/$executable"
  timeout 10 cp -- "$requirements" "$venv/installed-requirements.txt" ||
    die "$EXIT_MISSING_TOOL" "could not write $venv/installed-requirements.txt"
}

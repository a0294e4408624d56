# shellcheck shell=bash
# Building the project's Go tools from their build modules (tools/<name>/go.mod and go.sum, every
# module pinned by hash), shared by install-k8s-counterparts and install-pulumi-toolchain. Source
# it after lib/common.sh; it defines functions only.

# required_version MODULE_DIR MODULE: the version MODULE_DIR/go.mod requires of MODULE.
required_version() {
  local version
  version=$(awk -v module="$2" '($1 == module && $2 ~ /^v[0-9]/) { print $2; exit }
    ($1 == "require" && $2 == module && $3 ~ /^v[0-9]/) { print $3; exit }' "$1/go.mod")
  [[ -n $version ]] || die "$EXIT_FAILED" "${1#"$REPO/"}/go.mod requires no version of $2"
  printf '%s' "$version"
}

# go_directive MODULE_DIR: the Go version MODULE_DIR/go.mod asks for.
go_directive() {
  awk '$1 == "go" { print $2; exit }' "$1/go.mod"
}

# inputs_digest MODULE_DIR...: a short digest of every file the builds read from the repo.
inputs_digest() {
  local dir
  for dir in "$@"; do
    (
      cd -- "$dir" || exit
      find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 |
        LC_ALL=C sort -z | xargs -0 sha256sum
    )
  done | sha256sum | cut -c1-12
}

# cache_is_complete DIR BINARY...: DIR holds the stamp a finished build writes and every BINARY.
cache_is_complete() {
  local dir=$1 binary
  shift
  [[ -f $dir/.complete ]] || return 1
  for binary in "$@"; do
    [[ -x $dir/$binary ]] || return 1
  done
}

# require_go WANTED WHAT: go on PATH, at least version WANTED (a build module's go directive).
require_go() {
  local wanted=$1 what=$2 have
  require_tool go "install Go $wanted or later (https://go.dev/dl/) to build $what"
  have=$(GOTOOLCHAIN=local timeout 30 go env GOVERSION 2>/dev/null || true)
  have=${have#go}
  if [[ -z $have ]] ||
    [[ $(printf '%s\n%s\n' "$wanted" "$have" | sort -V | head -n 1) != "$wanted" ]]; then
    die "$EXIT_MISSING_TOOL" "go ${have:-(unknown)} is older than the $wanted that $what needs; install Go $wanted or later"
  fi
}

# go_build_environment: the settings every build uses. -mod=readonly: go.mod and go.sum as
# committed, nothing resolved anew. -buildvcs=false: the binaries do not depend on the checkout's
# git state (and a checkout owned by another user would make go's VCS stamping fail).
go_build_environment() {
  export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
}

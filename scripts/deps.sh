#!/bin/bash
# Installs what building and testing hc needs on a fresh Debian machine, and nothing that
# is already there. Used by `make deps` (and so by `make demo`, `make test` and .ci/run).
set -euo pipefail
need=""
have_cmd() { command -v "$1" >/dev/null 2>&1; }
for pair in gcc:gcc g++:g++ make:make nm:binutils valgrind:valgrind python3:python3 \
            openssl:openssl unshare:util-linux ip:iproute2 timeout:coreutils; do
  have_cmd "${pair%%:*}" || need="$need ${pair#*:}"
done
if [ -n "$need" ]; then
  echo "deps: installing$need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q $need >/dev/null
fi
if ! have_cmd go && [ -x /usr/local/go/bin/go ]; then
  echo "deps: Go is at /usr/local/go/bin; add it to PATH" >&2
fi
have_cmd go || [ -x /usr/local/go/bin/go ] || { echo "deps: no Go toolchain (need go >= 1.26)" >&2; exit 1; }

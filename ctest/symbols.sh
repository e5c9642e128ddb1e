#!/bin/bash
# The library exports exactly the allowlist: the global names of the linker version script,
# which are also exactly the functions declared in the public header.
set -euo pipefail
lib=$1 map=$2 header=$3
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
allowed=$(sed -n '/global:/,/local:/p' "$map" | grep -oE '\bhc_[a-z_]+' | sort)
declared=$(grep -vE '^\s*/?\*' "$header" | grep -oE '\bhc_[a-z_]+\(' | tr -d '(' | sort -u)
status=0
if [ "$exported" != "$allowed" ]; then
  echo "symbols: exported != allowlist"; diff <(echo "$exported") <(echo "$allowed") || true; status=1
fi
if [ "$allowed" != "$declared" ]; then
  echo "symbols: allowlist != header"; diff <(echo "$allowed") <(echo "$declared") || true; status=1
fi
n=$(echo "$exported" | wc -l)
[ $status = 0 ] && echo "symbols: $n exported, all allowed and declared (1 passed, 0 failed)"
exit $status

#!/bin/bash
# Starts examples/demo_server.py on a free local port, runs the C demo against it, and
# stops the server by its pid.
set -euo pipefail
demo=$1
here=$(cd "$(dirname "$0")" && pwd)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
python3 "$here/demo_server.py" "$port" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 50); do grep -q ready "$log" && break; sleep 0.1; done
"$demo" "$port"

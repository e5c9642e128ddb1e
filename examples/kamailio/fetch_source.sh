#!/bin/bash
# Fetches Debian's kamailio 5.6.3 source (the headers under src/core/ that the module is
# compiled against) into DIR, once. Uses a temporary deb-src entry and removes it again,
# so the machine's apt configuration is left as it was.
#   fetch_source.sh DIR      -> DIR/kamailio-5.6.3/src
set -euo pipefail
dir=$1
src="$dir/kamailio-5.6.3/src"
[ -f "$src/core/sr_module.h" ] && exit 0
mkdir -p "$dir"
command -v dpkg-source >/dev/null || { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpkg-dev >/dev/null; }
list=/etc/apt/sources.list.d/hc-kamailio-src.sources
cleanup() { rm -f "$list"; apt-get update -q >/dev/null 2>&1 || true; }
trap cleanup EXIT
cat > "$list" <<X
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
X
apt-get update -q >/dev/null
(cd "$dir" && apt-get source --download-only -q kamailio=5.6.3-2 >/dev/null)
tar -C "$dir" -xzf "$dir/kamailio_5.6.3.orig.tar.gz"
# Debian's patches touch only build files and app_python3, never src/core/: the orig
# headers are exactly what Debian compiled against.
[ -f "$src/core/sr_module.h" ] || { echo "fetch_source: no $src/core/sr_module.h" >&2; exit 1; }
rm -f "$dir"/kamailio_5.6.3*

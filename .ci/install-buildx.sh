#!/usr/bin/env bash
# Makes the docker buildx CLI plugin available to every docker client here (Debian's 20.10 client in
# /usr/bin and a newer one in /usr/local/bin): Debian 13's docker-buildx package depends only on
# libc6 (>= 2.34), so its plugin binary runs on Debian 12. The package is fetched with a trixie source
# list kept in a temporary apt directory: the machine's apt sources and lists are not changed.
# The mirror is the machine's own (read from its apt sources at run time). Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/apt-lock.sh"

# Debian's location, searched by docker clients 20.10 … 28 whatever DOCKER_CONFIG says.
plugin_dir="${EIC_BUILD_CLI_PLUGINS_DIR:-/usr/libexec/docker/cli-plugins}"
plugin="$plugin_dir/docker-buildx"
if [ -x "$plugin" ] && "$plugin" version >/dev/null 2>&1; then
  echo "buildx plugin present: $("$plugin" version)"
  exit 0
fi

# First main-archive URI of the machine's apt sources (one-line or deb822), as src/docker/apt-mirror.ts.
mirror="${EIC_BUILD_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
    awk '/^[[:space:]]*URIs:/ && $2 !~ /security/ { print $2; exit }
         /^[[:space:]]*deb[[:space:]]/ { u = ($2 ~ /^\[/) ? $3 : $2; if (u !~ /security/) { print u; exit } }')"
fi
[ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list(.d); set EIC_BUILD_DEBIAN_MIRROR" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/sources.list.d" "$tmp/preferences.d" "$tmp/deb"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$tmp/sources.list"
apt_opts=(
  -o Dir::Etc::sourcelist="$tmp/sources.list" -o Dir::Etc::sourceparts="$tmp/sources.list.d"
  -o Dir::Etc::preferencesparts="$tmp/preferences.d" -o Dir::State::Lists="$tmp/lists"
  -o Dir::Cache="$tmp/cache" -o APT::Sandbox::User=root
)
apt_update_waiting "${apt_opts[@]}"
(cd "$tmp/deb" && apt-get download -qq "${apt_opts[@]}" docker-buildx)
dpkg-deb -x "$tmp"/deb/docker-buildx_*.deb "$tmp/root"
mkdir -p "$plugin_dir"
# Into place in one rename, so a docker client never sees half a binary.
install -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-buildx" "$plugin.new"
mv -f "$plugin.new" "$plugin"
echo "buildx plugin installed: $("$plugin" version) in $plugin_dir"

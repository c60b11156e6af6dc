#!/usr/bin/env bash
# Installs and starts what the integration tests need: a Docker engine with BuildKit,
# a loopback OCI registry, skopeo, debootstrap, GnuPG. Idempotent; safe to run twice.
set -euo pipefail
# apt_update_waiting, apt_install_waiting: wait (bounded) for a held apt/dpkg lock instead of exit 100.
source "$(dirname "${BASH_SOURCE[0]}")/apt-lock.sh"

need=()
command -v /usr/bin/docker >/dev/null 2>&1 || need+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v gpg >/dev/null 2>&1 || need+=(gnupg)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
command -v igzip >/dev/null 2>&1 || need+=(isal)
command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v puttygen >/dev/null 2>&1 || need+=(putty-tools)
command -v ps >/dev/null 2>&1 || need+=(procps)
# Nested-archive readers and their tests: xz/bzip2 are run by the scanner; the rest make specimens.
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v bzip2 >/dev/null 2>&1 || need+=(bzip2)
command -v git >/dev/null 2>&1 || need+=(git)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v jar >/dev/null 2>&1 || need+=(default-jdk-headless)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt_update_waiting
  apt_install_waiting "${need[@]}" >/dev/null
fi

# Start dockerd if no engine answers yet.
if ! /usr/bin/docker info >/dev/null 2>&1; then
  (dockerd >/tmp/eic-build-dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do
    /usr/bin/docker info >/dev/null 2>&1 && break
    sleep 1
  done
  /usr/bin/docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /tmp/eic-build-dockerd.log" >&2; tail -20 /tmp/eic-build-dockerd.log >&2; exit 1; }
fi
# The buildx CLI plugin (Debian 13's docker-buildx) for every docker client, so builds run through buildx.
bash "$(dirname "${BASH_SOURCE[0]}")/install-buildx.sh"

echo "system ready: $(/usr/bin/docker version --format '{{.Server.Version}}') engine, $(gpg --version | head -1)"

#!/usr/bin/env bash
# Installs and starts what the integration tests need: a Docker engine with BuildKit,
# a loopback OCI registry, skopeo, debootstrap, GnuPG. Idempotent; safe to run twice.
set -euo pipefail

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
command -v ps >/dev/null 2>&1 || need+=(procps)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
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
echo "system ready: $(/usr/bin/docker version --format '{{.Server.Version}}') engine, $(gpg --version | head -1)"

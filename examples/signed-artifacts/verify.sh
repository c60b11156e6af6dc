#!/bin/sh
# Verify every artifact against the one trusted public key; fail on any missing or bad signature.
set -eu
count=0
for file in /opt/artifacts/*; do
  case "$file" in *.asc) continue ;; esac
  gpgv --keyring /etc/eic-build/trusted-signer.gpg "$file.asc" "$file"
  count=$((count + 1))
done
test "$count" -gt 0
echo "verified $count artifact(s) against the trusted signer"

#!/usr/bin/env bash
# Installs what Lotse and its tests need on Debian bookworm (run as root). Idempotent.
set -euo pipefail

# containerd, runc and the CNI plugins run pods; catatonit is the pause process; busybox-static
# makes the tests' image (no registry needed); python3-kubernetes is the official Python client the
# tests drive the server with; docker-registry and skopeo give the private-registry tests a local
# registry to push that image into.
packages=(sqlite3 etcd-server etcd-client nftables iproute2 ca-certificates containerd runc containernetworking-plugins catatonit busybox-static python3-kubernetes docker-registry skopeo)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v dotnet >/dev/null || { echo "deps: the .NET 10 SDK (dotnet) must be on PATH" >&2; exit 1; }
cd "$(dirname "$0")/.."
dotnet restore Lotse.slnx --nologo -v quiet

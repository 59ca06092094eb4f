#!/usr/bin/env bash
# The system packages the test suite needs, in one place (`make sysdeps`, which
# `make test` runs first, and .ci/run): Debian's Fashion-MNIST IDX files, and a
# single-node SLURM with munge (.ci/install-slurm.sh, which also pins the
# executor plugin into the venv).
#
#   .ci/setup-system.sh [VENV]        # VENV defaults to .venv
#
# Idempotent and quick when everything is there (a dpkg query, no apt). As root it
# installs what is missing with apt (one apt-get update); as another user it stops
# at once and prints the one command to run.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv}"
APT_PACKAGES=(dataset-fashion-mnist slurmctld slurmd slurm-client munge)

if ! command -v dpkg-query >/dev/null; then
  echo "setup-system: no dpkg here; install Fashion-MNIST IDX files under /usr/share/datasets/fashion-mnist" \
       "and SLURM (slurmctld, slurmd, client tools, munge) by hand" >&2
  exit 1
fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: the tests need Debian packages that are missing: ${missing[*]}" >&2
  echo "run once, as root:  sudo make sysdeps" >&2
  exit 1
fi
echo "setup-system: apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
bash .ci/install-slurm.sh "$VENV"

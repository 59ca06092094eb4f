#!/usr/bin/env bash
# Installs what tests/test_slurm.py needs: Debian's SLURM daemons and client
# tools plus munge (the test starts them itself, as plain processes), and the
# pinned Snakemake SLURM executor plugin into the project venv.
#
#   .ci/install-slurm.sh [VENV]        # VENV defaults to .venv
#
# Idempotent: apt runs only for packages that are missing. Needs root (or sudo)
# for apt. Nothing is configured or started here: a real cluster's nodes have
# their own slurm.conf; the test writes a throwaway one under /tmp.
set -euo pipefail

VENV="${1:-.venv}"
APT_PACKAGES=(slurmctld slurmd slurm-client munge)

if [ ! -x "$VENV/bin/python" ]; then
  echo "install-slurm: no Python venv at $VENV (make venv first)" >&2
  exit 2
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-slurm: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The executor plugin's pins live in requirements.txt (make venv installs them too).
grep -E '^snakemake-executor-plugin-slurm' "$(dirname "$0")/../requirements.txt" \
  | xargs "$VENV/bin/python" -m pip install -q
"$VENV/bin/python" -m pip show snakemake-executor-plugin-slurm 2>/dev/null | sed -n 's/^Version: /install-slurm: snakemake-executor-plugin-slurm /p'

#!/usr/bin/env bash
# ansible-test sanity, every test, on what the collection ships; offline-friendly once its
# per-test environments are built (the first run installs them from the package index).
# ansible-test wants the collection under .../ansible_collections/<ns>/<name> and downloads a pip
# bootstrap script from the internet; a cached stand-in (written below) bootstraps pip from the
# standard library's ensurepip instead and installs the requirements from the package index.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/.venv/bin"
pip_version=$("$bin/python" -c 'from ansible_test._internal.python_requirements import PIP_VERSION as v; print(v)' 2>/dev/null || echo 24.2)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
cat >"$cache" <<'PY'
"""switchyard's stand-in for get-pip.py: pip from ensurepip, then what ansible-test asked for."""
import ensurepip
import ssl
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
# ansible-test filters the environment, so pip's certificate settings do not arrive here.
cafile = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--cert", cafile, *args]))
PY

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
dest="$tree/ansible_collections/switchyard/bluegreen"
mkdir -p "$dest"
# Only what the collection ships (tracked files, minus the build_ignore'd trees).
git -C "$here" ls-files -co --exclude-standard -- galaxy.yml meta plugins roles playbooks README.md CHANGELOG.md \
  | tar -C "$here" -cf - -T - | tar -C "$dest" -xf -
# Our modules use amazon.aws's doc fragments and module_utils: make it visible beside us.
site=$("$bin/python" -c 'import ansible_collections.amazon.aws as m, os; print(os.path.dirname(os.path.dirname(m.__path__[0])))')
mkdir -p "$tree/ansible_collections/amazon"
ln -s "$site/amazon/aws" "$tree/ansible_collections/amazon/aws"
cd "$dest"
git init -q . && git add -A >/dev/null  # ansible-test lists files through git
"$bin/ansible-test" sanity --color no --python "$("$bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')" "$@"

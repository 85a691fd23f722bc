"""The core imports no Ansible and no boto3: every shell (modules, action plugins, filters, the
guard's Lambda) can run it, and its tests run in seconds."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

from ansible_collections.switchyard.bluegreen.plugins.module_utils import core

BLOCK = """
import sys
class Forbidden:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("ansible", "boto3", "botocore") or name.startswith("ansible_collections.amazon"):
            raise ImportError("the core must not import " + name)
sys.meta_path.insert(0, Forbidden())
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
print("pure")
"""


def test_every_core_module_imports_without_ansible_or_boto3():
    names = [f"{core.__name__}.{module.name}" for module in pkgutil.iter_modules(core.__path__)]
    expected = {"rollback", "promote", "settings", "schema", "lease", "guard", "redact"}
    assert expected <= {name.rsplit(".", 1)[1] for name in names}
    # The folder that holds ansible_collections (core is a namespace package: no __file__).
    collections = Path(list(core.__path__)[0]).parents[5]
    done = subprocess.run(
        [sys.executable, "-c", BLOCK, *names],
        env={"PYTHONPATH": str(collections), "PYTHONNOUSERSITE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "pure" in done.stdout, done.stderr

"""lambda_package: the same files give the same bytes; and the guard's package, as the provision role
lists it, imports in a Python that has boto3 but no Ansible (as Lambda's runtime)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import yaml
from ansible_collections.switchyard.bluegreen.plugins.modules import lambda_package

from tests.conftest import REPO
from tests.unit.plugins.modules.utils import run_module


def sources(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("A = 1\n")
    (tmp_path / "src" / "b.py").write_text("B = 2\n")
    return {"pkg/a.py": str(tmp_path / "src" / "a.py"), "b.py": str(tmp_path / "src" / "b.py")}


def test_a_package_is_written_once_and_then_left_alone(tmp_path):
    dest = str(tmp_path / "out" / "package.zip")
    files = sources(tmp_path)

    first = run_module(lambda_package, {"dest": dest, "files": files}, diff=True)
    second = run_module(lambda_package, {"dest": dest, "files": files})

    assert not first["failed"] and first["changed"] and first["diff"]["before"] == "none"
    assert not second["changed"] and second["sha256"] == first["sha256"]
    assert sorted(zipfile.ZipFile(dest).namelist()) == ["b.py", "pkg/a.py"]


def test_the_same_sources_give_the_same_bytes_whatever_their_times(tmp_path):
    files = sources(tmp_path)
    dest = str(tmp_path / "package.zip")
    before = run_module(lambda_package, {"dest": dest, "files": files})["sha256"]
    for path in files.values():
        os.utime(path, (1_000_000, 1_000_000))
    os.unlink(dest)

    after = run_module(lambda_package, {"dest": dest, "files": files})

    assert after["sha256"] == before, "a checkout's mtimes must not change the function's source_code_hash"


def test_a_changed_source_changes_the_package_and_check_mode_writes_nothing(tmp_path):
    files = sources(tmp_path)
    dest = str(tmp_path / "package.zip")
    run_module(lambda_package, {"dest": dest, "files": files})
    written = (tmp_path / "package.zip").read_bytes()
    (tmp_path / "src" / "a.py").write_text("A = 3\n")

    checked = run_module(lambda_package, {"dest": dest, "files": files}, check_mode=True)

    assert checked["changed"] and (tmp_path / "package.zip").read_bytes() == written


def test_a_missing_source_is_named_and_nothing_is_written(tmp_path):
    dest = tmp_path / "package.zip"
    result = run_module(lambda_package, {"dest": str(dest), "files": {"a.py": str(tmp_path / "nope.py")}})
    assert result["failed"] and "nope.py" in result["msg"] and not dest.exists()


# Lambda's Python has boto3 and no Ansible: block both Ansible namespaces and import the handler.
WITHOUT_ANSIBLE = """
import sys
class NoAnsible:
    def find_spec(self, name, path=None, target=None):
        if name == "ansible" or name.startswith(("ansible.", "ansible_collections.amazon")):
            raise ImportError("no Ansible in Lambda: " + name)
sys.meta_path.insert(0, NoAnsible())
sys.path.insert(0, sys.argv[1])
from ansible_collections.switchyard.bluegreen.plugins.module_utils import guard, migration_runner
assert callable(guard.lambda_handler) and callable(migration_runner.lambda_handler)
print("imported")
"""


def test_the_stacks_package_imports_without_ansible(tmp_path):
    role_vars = yaml.safe_load((REPO / "roles" / "provision" / "vars" / "main.yml").read_text())
    # The role packages only the handlers (the guard, the migration runner); the module follows
    # their imports into the core.
    role_path = str(REPO / "roles" / "provision")
    packaged = role_vars["_provision_guard_files"].items()
    files = {name: source.replace("{{ role_path }}", role_path) for name, source in packaged}
    assert sorted(os.path.basename(source) for source in files.values()) == ["guard.py", "migration_runner.py"]
    dest = str(tmp_path / "guard.zip")
    built = run_module(lambda_package, {"dest": dest, "files": files, "follow_imports": True})
    assert not built["failed"], built["msg"]
    # Built from the core: the decisions the guard shares with rollback.yml and the promote ship in it.
    members = {name.split("module_utils/")[-1] for name in built["members"]}
    assert {"core/rollback.py", "core/guard.py", "core/lease.py", "core/schema.py", "listener.py"} <= members

    # Lambda unpacks the package into its task directory. On the path: that directory and
    # site-packages (boto3), not the checkout and not .collections.
    task = tmp_path / "task"
    zipfile.ZipFile(dest).extractall(task)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONNOUSERSITE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_ANSIBLE, str(task)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr

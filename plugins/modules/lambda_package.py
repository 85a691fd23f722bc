#!/usr/bin/python
# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: lambda_package
short_description: Build a Lambda function's zip package, byte for byte the same for the same files
version_added: 0.3.0
description:
  - Writes a zip archive of the given files, with fixed timestamps and modes and in sorted order,
    so that the same sources always give the same bytes and the same C(source_code_hash), and a
    Terraform plan after a deployment shows no change to the function.
  - The provision role packages the guard (C(module_utils/guard.py) and what it imports) this way
    before Terraform runs, because the Terraform archive provider is not at hand.
  - Reports C(changed) only when the archive on disk differs from the one the files make. Check
    mode writes nothing.
author:
  - switchyard contributors (@switchyard)
options:
  dest:
    description: Path of the zip file; its directory is created when missing.
    type: path
    required: true
  files:
    description: The archive's members, each name in the archive mapped to its source file.
    type: dict
    required: true
  follow_imports:
    description:
      - Also package every module_utils file of this collection that a Python member imports,
        and what those import in turn, found beside the member at the path it is imported from.
        The guard's package is so built from the core and the adapters it uses, with no list to
        keep up to date.
    type: bool
    default: false
    version_added: 0.4.0
"""

EXAMPLES = r"""
- name: Package the guard
  switchyard.bluegreen.lambda_package:
    dest: "{{ terraform_dir }}/.terraform/switchyard-guard.zip"
    files:
      ansible_collections/switchyard/bluegreen/plugins/module_utils/guard.py: "{{ module_utils }}/guard.py"
    follow_imports: true
  register: guard_package
"""

RETURN = r"""
path:
  description: The zip file.
  returned: always
  type: str
  sample: infrastructure/environments/sandbox/.terraform/switchyard-guard.zip
sha256:
  description: The archive's SHA-256, base64-encoded (Lambda's and Terraform's C(source_code_hash)).
  returned: always
  type: str
  sample: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
members:
  description: The archive's members, sorted.
  returned: always
  type: list
  elements: str
  sample: ["ansible_collections/switchyard/bluegreen/plugins/module_utils/guard.py"]
diff:
  description: The archive's hash before and after.
  returned: in diff mode
  type: dict
  sample: {"before": "none", "after": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}
"""

import ast
import base64
import hashlib
import io
import os
import zipfile

from ansible.module_utils.basic import AnsibleModule

# The earliest date a zip can hold: every member carries it, so a checkout's mtimes do not matter.
EPOCH = (1980, 1, 1, 0, 0, 0)


MODULE_UTILS = "ansible_collections.switchyard.bluegreen.plugins.module_utils"


def imported_module_utils(source):
    """The module_utils of this collection that the Python file source imports: their paths
    relative to module_utils (core/lease.py)."""
    with open(source, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(MODULE_UTILS + "."):
            found.add(node.module[len(MODULE_UTILS) + 1 :].replace(".", "/") + ".py")
    return found


def with_imports(files):
    """files plus, transitively, the module_utils their Python members import."""
    prefix = MODULE_UTILS.replace(".", "/") + "/"
    members, todo = dict(files), [name for name in files if name.startswith(prefix) and name.endswith(".py")]
    while todo:
        name = todo.pop()
        # The member's module_utils folder on disk: its source path minus its path inside module_utils.
        base = members[name][: -len(name[len(prefix) :])]
        for relative in imported_module_utils(members[name]):
            member = prefix + relative
            if member not in members:
                members[member] = os.path.join(base, relative)
                todo.append(member)
    return members


def build(files):
    """The archive's bytes: members sorted by name, fixed dates, mode 0644, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(files[name], "rb") as handle:
                archive.writestr(info, handle.read())
    return buffer.getvalue()


def digest(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode() if data is not None else "none"


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write(path, data):
    """Write atomically: a temporary file beside path, then os.replace."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = f"{path}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            files=dict(type="dict", required=True),
            follow_imports=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    dest, files = module.params["dest"], module.params["files"]
    if module.params["follow_imports"]:
        try:
            files = with_imports(files)
        except (OSError, SyntaxError) as e:
            module.fail_json(
                msg=f"Cannot package {dest}: reading what its files import failed: {e}. Nothing was written."
            )
    missing = sorted(source for source in files.values() if not os.path.isfile(source))
    if missing:
        module.fail_json(msg=f"Cannot package {dest}: no such file {', '.join(missing)}. Nothing was written.")
    data = build(files)
    before = read(dest)
    changed = before != data
    if changed and not module.check_mode:
        try:
            write(dest, data)
        except OSError as e:
            module.fail_json(msg=f"Could not write the package {dest}: {e.strerror or e}.")
    result = dict(changed=changed, path=dest, sha256=digest(data), members=sorted(files))
    if module._diff:
        result["diff"] = {"before": digest(before), "after": digest(data)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()

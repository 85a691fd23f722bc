"""Each Terraform module's README documents its interface as it is: every input (with its default)
and every output, nothing that is gone, and an example that a reader can copy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

MODULES = sorted(p for p in (REPO / "infrastructure" / "modules").iterdir() if p.is_dir())


@dataclass(frozen=True)
class Variable:
    name: str
    default: str | None  # the HCL text of the default; None when the input is required


def blocks(text: str, kind: str) -> dict[str, str]:
    """Top-level `kind "name" { ... }` blocks of a Terraform file, by name (braces matched)."""
    found = {}
    for match in re.finditer(rf'^{kind} "(\w+)" \{{', text, re.M):
        depth, i = 0, match.end() - 1
        while True:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        found[match.group(1)] = text[match.end() : i]
    return found


def variables(module: Path) -> dict[str, Variable]:
    result = {}
    for name, body in blocks((module / "variables.tf").read_text(), "variable").items():
        default = re.search(r"^  default\s*=\s*(.+)$", body, re.M)
        result[name] = Variable(name, default.group(1).strip() if default else None)
    return result


def outputs(module: Path) -> set[str]:
    return set(blocks((module / "outputs.tf").read_text(), "output"))


def section(readme: str, title: str) -> str:
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert match, f"the README has no '## {title}' section"
    return match.group(1)


def table_rows(text: str) -> dict[str, list[str]]:
    """Rows of a markdown table whose first cell is a `name`, by name, with their cells."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells and re.fullmatch(r"`\w+`", cells[0]):
            rows[cells[0].strip("`")] = cells
    return rows


def readme(module: Path) -> str:
    path = module / "README.md"
    assert path.is_file(), f"infrastructure/modules/{module.name} has no README.md"
    return path.read_text()


def test_there_are_modules():
    assert {m.name for m in MODULES} >= {"stack", "network", "ecs", "load_balancer", "deploy_access"}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_readme_lists_every_input_with_its_default_and_nothing_stale(module):
    documented = table_rows(section(readme(module), "Inputs"))
    declared = variables(module)
    missing, stale = sorted(set(declared) - set(documented)), sorted(set(documented) - set(declared))
    assert not missing and not stale, (
        f"modules/{module.name}/README.md is out of date: undocumented inputs {missing}, "
        f"inputs that no longer exist {stale}"
    )
    for name, variable in declared.items():
        expected = "required" if variable.default is None else f"`{variable.default}`"
        assert documented[name][2] == expected.replace("|", "\\|"), (
            f"modules/{module.name}/README.md gives {name} the default {documented[name][2]}, variables.tf {expected}"
        )


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_readme_lists_every_output_and_nothing_stale(module):
    documented = set(table_rows(section(readme(module), "Outputs")))
    declared = outputs(module)
    assert documented == declared, (
        f"modules/{module.name}/README.md is out of date: undocumented outputs {sorted(declared - documented)}, "
        f"outputs that no longer exist {sorted(documented - declared)}"
    )


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_readme_example_sets_every_required_input_and_only_real_ones(module):
    example = re.search(r"```hcl\n(.*?)```", section(readme(module), "Example"), re.S)
    assert example, f"modules/{module.name}/README.md has no hcl example"
    call = re.search(r'^module "\w+" \{\n(.*?)^\}', example.group(1), re.M | re.S)
    assert call, f"the example of modules/{module.name} does not call the module"
    arguments = set(re.findall(r"^  (\w+)\s*=", call.group(1), re.M)) - {"source"}
    declared = variables(module)
    assert arguments <= set(declared), (
        f"the example of {module.name} sets unknown inputs {sorted(arguments - set(declared))}"
    )
    required = {name for name, v in declared.items() if v.default is None}
    assert required <= arguments, (
        f"the example of {module.name} leaves out required inputs {sorted(required - arguments)}"
    )

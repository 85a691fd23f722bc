"""Each setting has one default: role defaults agree with each other and with the argument specs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

ROLES = sorted(path for path in (REPO / "roles").iterdir() if (path / "meta" / "argument_specs.yml").is_file())
INVENTORY_DEFAULT = re.compile(r"\{\{\s*(switchyard_\w+)\s*\|\s*default\((.+?)\)\s*\}\}$")


def _defaults(role: Path) -> dict:
    path = role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def _spec_options(role: Path) -> dict[str, dict]:
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return {name: option for entry in specs.values() for name, option in (entry.get("options") or {}).items()}


def test_an_inventory_setting_has_the_same_fallback_in_every_role():
    fallbacks: dict[str, set[str]] = {}
    for role in ROLES:
        for value in _defaults(role).values():
            match = INVENTORY_DEFAULT.match(str(value).strip())
            if match:
                fallbacks.setdefault(match.group(1), set()).add(match.group(2).strip())
    assert fallbacks, "no role default reads an inventory setting: the pattern no longer matches"
    differing = {name: values for name, values in fallbacks.items() if len(values) > 1}
    assert not differing, f"one inventory setting, several fallbacks across roles: {differing}"


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_argument_spec_defaults_are_the_role_defaults(role):
    defaults = _defaults(role)
    for name, option in _spec_options(role).items():
        if "default" not in option or name not in defaults:
            continue
        value = defaults[name]
        if isinstance(value, str) and "{{" in value:
            pytest.fail(f"{role.name}: {name} defaults to a template; its argument spec must not state a default")
        assert option["default"] == value, (
            f"{role.name}: {name} is {value!r} in defaults/main.yml, {option['default']!r} in the spec"
        )


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_every_role_default_is_documented(role):
    options = _spec_options(role)
    undocumented = [name for name in _defaults(role) if name not in options]
    assert not undocumented, f"{role.name}: defaults without an argument spec: {undocumented}"

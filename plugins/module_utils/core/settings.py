# Copyright: switchyard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment's settings as one typed schema, checked before anything is taken or changed.

Pure Python, no Ansible and no boto3: the promote's plan module, the action plugin and the guard
use the same rules. Each setting is named as the inventory names it (switchyard_<name>), and a
refusal names the setting, the value given and what is allowed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

SWITCH_MODES = ("all_at_once", "canary", "linear")
INSUFFICIENT_DATA_POLICIES = ("fail", "extend", "continue")
TERRAFORM_MODES = ("apply", "plan")


@dataclass(frozen=True)
class Number:
    """A number setting: an int or a float, with bounds (None: unbounded)."""

    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None  # strictly greater than this

    def allowed(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        bounds = []
        if self.above is not None:
            bounds.append(f"above {self.above:g}")
        if self.minimum is not None:
            bounds.append(f"at least {self.minimum:g}")
        if self.maximum is not None:
            bounds.append(f"at most {self.maximum:g}")
        return f"{kind} {' and '.join(bounds)}".strip()

    def parse(self, value):
        """The value as a number, or raise ValueError with what is allowed."""
        number = _number(value, self.integer)
        if number is None:
            raise ValueError(self.allowed())
        too_low = (self.minimum is not None and number < self.minimum) or (
            self.above is not None and number <= self.above
        )
        if too_low or (self.maximum is not None and number > self.maximum):
            raise ValueError(self.allowed())
        return number


@dataclass(frozen=True)
class Choice:
    choices: tuple

    def allowed(self) -> str:
        return f"one of {', '.join(self.choices)}"

    def parse(self, value):
        if value not in self.choices:
            raise ValueError(self.allowed())
        return value


@dataclass(frozen=True)
class Branch:
    """A git branch name (the branch whose attested builds alone may run: image_provenance)."""

    def allowed(self) -> str:
        return "a branch name such as main (letters, digits, ., _, / and -, not starting with - or /)"

    def parse(self, value):
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9._][A-Za-z0-9._/-]{0,99}", value):
            raise ValueError(self.allowed())
        return value


@dataclass(frozen=True)
class Steps:
    """Percent of production traffic on the new colour after each step."""

    def allowed(self) -> str:
        return "whole percentages that rise strictly, lie in 1..100 and end at 100, e.g. [10, 100]"

    def parse(self, value):
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(self.allowed())
        steps = [_number(step, integer=True) for step in value]
        if None in steps or any(not 1 <= step <= 100 for step in steps):
            raise ValueError(self.allowed())
        if steps[-1] != 100 or any(later <= earlier for earlier, later in zip(steps, steps[1:])):  # noqa: B905
            raise ValueError(self.allowed())
        return steps


def _number(value, integer):
    """value as an int (integer) or a float; None when it is no such number. Inventory values
    arrive as strings from -e, so numeric strings count; booleans do not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if integer:
        return int(value) if float(value).is_integer() else None
    return float(value)


@dataclass(frozen=True)
class Period:
    """A CloudWatch period: 1, 5, 10 or 30 seconds (high resolution), or a multiple of 60."""

    def allowed(self) -> str:
        return "1, 5, 10, 30 or a multiple of 60 (seconds, as CloudWatch takes them)"

    def parse(self, value):
        period = _number(value, integer=True)
        if period is None or not (period in (1, 5, 10, 30) or (period > 0 and period % 60 == 0)):
            raise ValueError(self.allowed())
        return period


WHOLE_SECONDS = Number(integer=True, minimum=0)
# name (switchyard_<name>) -> rule. Durations that bound a wait must be above 0; a bake or a
# standby of 0 means "none" and is allowed. Whole seconds where the roles take whole seconds.
SCHEMA = {
    "switch_mode": Choice(SWITCH_MODES),
    "switch_steps": Steps(),
    "canary_steps": Steps(),
    "linear_steps": Steps(),
    "error_threshold_percent": Number(minimum=0, maximum=100),
    "min_requests": Number(integer=True, minimum=1),
    "guard_min_requests": Number(integer=True, minimum=1),
    "health_timeout": Number(integer=True, above=0),
    "lease_seconds": Number(integer=True, above=0),
    "migration_timeout": Number(integer=True, above=0),
    "poll_seconds": Number(minimum=1),
    "bake_seconds": WHOLE_SECONDS,
    "step_bake_seconds": WHOLE_SECONDS,
    "bake_extend_seconds": WHOLE_SECONDS,
    "metric_period_seconds": Period(),
    "metric_wait_seconds": Number(minimum=0),
    "standby_seconds": WHOLE_SECONDS,
    "insufficient_data": Choice(INSUFFICIENT_DATA_POLICIES),
    "promote_terraform": Choice(TERRAFORM_MODES),
    "image_provenance": Branch(),
    "probe_rate_per_second": Number(minimum=0, maximum=20),
    "probe_window": Number(integer=True, minimum=1),
    "probe_failure_threshold_percent": Number(minimum=0, maximum=100),
}


class SettingsError(ValueError):
    """Every setting that is refused, one sentence each."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


def validate(settings: dict, names: dict | None = None) -> dict:
    """The settings given (names without the switchyard_ prefix), parsed to their types; raises
    SettingsError naming every bad one. A setting given as nothing (None, "") is refused: a role
    would read it as "none" (no bake, no standby), not as its default; leave it out instead.
    Names outside the schema pass through unchanged. names: the variable a setting came from,
    when it is not switchyard_<name> (the steps come from switchyard_canary_steps, say)."""
    names = {name: f"switchyard_{name}" for name in settings} | (names or {})
    parsed, problems = dict(settings), []
    for name, value in settings.items():
        rule = SCHEMA.get(name)
        if rule is None:
            continue
        if value is None or value == "":
            problems.append(f"{names[name]} is set to nothing: give {rule.allowed()}, or leave it out for its default.")
            continue
        try:
            parsed[name] = rule.parse(value)
        except ValueError as allowed:
            problems.append(f"{names[name]} is {value!r}: give {allowed}.")
    if not problems:
        steps, source = chosen_steps(parsed)
        if source:
            names["switch_steps"] = names.get(source, f"switchyard_{source}")
        if source and steps is None:
            problems = [
                f"{names['switch_steps']} is not set for the mode {parsed['switch_mode']}:"
                " give its steps, e.g. [10, 100]."
            ]
        else:
            parsed["switch_steps"] = steps
            problems = _relations(parsed, names)
    if problems:
        raise SettingsError(problems)
    return parsed


def _relations(settings: dict, names: dict) -> list:
    """What single values cannot say: the steps fit the mode, and no phase without a heartbeat
    outlasts the lease (another run would take it over while this one still bakes)."""
    problems = []
    mode, steps = settings.get("switch_mode"), settings.get("switch_steps")
    steps_name = names.get("switch_steps", "switchyard_switch_steps")
    if mode == "all_at_once" and steps not in (None, [100]):
        problems.append(f"{steps_name} is {steps} for the mode all_at_once: all at once is [100].")
    if mode not in (None, "all_at_once") and steps is not None and len(steps) < 2:
        problems.append(f"{steps_name} is {steps} for the mode {mode}: give at least two steps, e.g. [10, 100].")
    lease = settings.get("lease_seconds")
    if lease:
        for phase in LONGEST_WITHOUT_HEARTBEAT:
            if settings.get(phase[0]) is None:
                continue
            total = sum(settings.get(name) or 0 for name in phase)
            if total >= lease:
                parts = " + ".join(f"switchyard_{name}" for name in phase if settings.get(name) is not None)
                problems.append(
                    f"{parts} is {total:g} s, not below switchyard_lease_seconds ({lease:g} s): the lease would"
                    " expire during that phase, which renews it only at its end. Lengthen the lease or shorten it."
                )
    return problems


# Phases that do not renew the lease while they last: the first setting is the phase, the others
# add to it (an extended bake, then the wait for late metrics).
LONGEST_WITHOUT_HEARTBEAT = (
    ("bake_seconds", "bake_extend_seconds", "metric_wait_seconds"),
    ("step_bake_seconds", "bake_extend_seconds", "metric_wait_seconds"),
    ("health_timeout",),
    ("migration_timeout",),
)


def chosen_steps(settings: dict) -> tuple:
    """(the steps of this promote, the setting they come from): switch_steps when given (one run's
    override), else the mode's own (canary_steps, linear_steps; all at once is [100])."""
    if settings.get("switch_steps") is not None:
        return settings["switch_steps"], "switch_steps"
    mode = settings.get("switch_mode") or "all_at_once"
    if mode == "all_at_once":
        return [100], None
    return settings.get(f"{mode}_steps"), f"{mode}_steps"


def plan_steps(settings: dict) -> list:
    """[{percent, bake_seconds}]: each traffic step of a promote and how long it bakes (the last
    step bakes bake_seconds, the others step_bake_seconds)."""
    steps = settings.get("switch_steps") or [100]
    last, each = settings.get("bake_seconds", 0), settings.get("step_bake_seconds", 0)
    return [{"percent": percent, "bake_seconds": last if percent == 100 else each} for percent in steps]

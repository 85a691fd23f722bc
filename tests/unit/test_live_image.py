"""scripts/live_image.py: the live image from a status file, or a refusal that says why not."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
from live_image import live_image  # noqa: E402 (scripts/ is not a package)

DIGEST = "123.dkr.ecr.eu-west-1.amazonaws.com/switchyard/app@sha256:" + "a" * 64
STATUS = {
    "environment": "staging",
    "live_colour": "green",
    "live_image": DIGEST,
    "production_weights": {"blue": 0, "green": 100},
    "run": None,
}


def test_the_live_image_is_the_live_colours():
    assert live_image(STATUS) == DIGEST


def test_a_split_has_no_live_image():
    with pytest.raises(ValueError, match="traffic is split"):
        live_image({**STATUS, "live_colour": None, "production_weights": {"blue": 90, "green": 10}})


def test_a_run_under_way_is_waited_for():
    run = {"state": "in_flight", "operation": "promote", "phase": "baking 10"}
    with pytest.raises(ValueError, match="promote in flight .phase baking 10."):
        live_image({**STATUS, "run": run})

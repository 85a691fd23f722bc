"""Under load through HAProxy, promote.yml and rollback.yml lose no request (the benchmark, with less load)."""

from __future__ import annotations

from scripts.zero_downtime import run


def test_promote_and_rollback_playbooks_under_load_fail_no_request():
    result = run(concurrency=5)
    assert result["sent"] >= 300, f"the load generator sent too little to mean anything: {result}"
    assert result["failed"] == 0, f"requests failed during the switches: {result}"
    assert set(result["statuses"]) == {200}, result["statuses"]
    assert set(result["switches"]) == {"promote", "rollback"}
    for name, figures in result["switches"].items():
        assert figures["effect_seconds"] is not None, f"{name}: HAProxy's weights never moved"
        assert figures["effect_seconds"] < 5, result["switches"]

"""Under load through HAProxy, a promote and a rollback lose no request (the short run of the benchmark)."""

from __future__ import annotations

from scripts.zero_downtime import run


def test_promote_and_rollback_under_load_fail_no_request():
    result = run(seconds=6, concurrency=10)
    assert result["sent"] >= 500, f"the load generator sent too little to mean anything: {result}"
    assert result["failed"] == 0, f"requests failed during the switches: {result}"
    assert set(result["statuses"]) == {200}, result["statuses"]
    assert set(result["switch_seconds"]) == {"promote", "rollback"}
    assert all(seconds < 5 for seconds in result["switch_seconds"].values()), result["switch_seconds"]

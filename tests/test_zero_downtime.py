"""Under load through HAProxy, promote.yml (with an expand migration) and rollback.yml lose no
request, and a contract migration the live release still needs is refused (the benchmark, with
less load)."""

from __future__ import annotations

from scripts.zero_downtime import run


def test_promote_and_rollback_playbooks_under_load_fail_no_request_across_an_expand_migration():
    result = run(concurrency=5)
    assert result["sent"] >= 300, f"the load generator sent too little to mean anything: {result}"
    assert result["failed"] == 0, f"requests failed during the switches: {result}"
    assert set(result["statuses"]) == {200}, result["statuses"]
    assert set(result["switches"]) == {"promote", "rollback"}
    for name, figures in result["switches"].items():
        assert figures["effect_seconds"] is not None, f"{name}: HAProxy's weights never moved"
        assert figures["effect_seconds"] < 5, result["switches"]
    # v1 works on the schema v2 migrated, and v3's contract step (it drops a column v1 reads) is
    # refused while v1 is live, before anything ran: the load above saw no failure meanwhile.
    assert result["v1_write_after_rollback"] == 201
    contract = result["contract_promote"]
    assert contract["returncode"] != 0
    assert (
        "contract migration 0003.drop-visits-client refused: release switchyard/app:v1 can still run"
        in (contract["output"])
    ), contract["output"]
    assert "Production traffic has not moved" in contract["output"]

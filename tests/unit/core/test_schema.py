"""The schema rule (module_utils/core/schema.py): which release can still serve, from the records."""

from __future__ import annotations

from ansible_collections.switchyard.bluegreen.plugins.module_utils.core.schema import schema_refusal


def promote(image, head, *applied, outcome="succeeded"):
    """A promote record as promote.yml writes it: the migrations its step applied, in order."""
    return {
        "kind": "promote",
        "image": image,
        "outcome": outcome,
        "migrations": {
            "head": head,
            "applied": [{"id": m, "phase": "contract" if m.endswith("drop") else "expand"} for m in applied],
        },
    }


# Newest first, as deployment_record_info returns them: r1 ships 0001, r2 0002, r3 the contract.
HISTORY = [
    promote("app:r3", "0003.drop", "0003.drop", outcome="failed"),  # its health gate failed, after migrating
    {"kind": "finalize", "image": "app:r2"},
    promote("app:r2", "0002.add", "0002.add"),
    promote("app:r1", "0001.init", "0001.init"),
]


def test_a_release_older_than_an_applied_contract_is_refused_naming_the_migration():
    refusal = schema_refusal("app:r1", HISTORY)
    assert refusal.startswith("app:r1 cannot serve on this database: contract migration 0003.drop"), refusal
    assert "applied by the promote of app:r3" in refusal and "up to 0001.init only" in refusal
    assert "promote a release that ships 0002.add or later" in refusal


def test_the_release_before_the_contract_and_later_ones_can_serve():
    assert schema_refusal("app:r2", HISTORY) is None
    assert schema_refusal("app:r3", HISTORY) is None


def test_an_image_no_promote_migrated_is_not_refused():
    """The image a new stack starts with (bootstrap) never ran a migration step: nothing says it
    reads the database, so the rule does not refuse it."""
    assert schema_refusal("app:bootstrap", HISTORY) is None


def test_without_a_contract_migration_any_release_can_serve():
    assert schema_refusal("app:r1", HISTORY[1:]) is None
    assert schema_refusal("app:anything", []) is None


def test_when_the_records_read_no_longer_show_what_preceded_a_contract_only_its_release_is_safe():
    """The promote that applied 0001 and 0002 fell out of the records read: r1, whose head the
    records still show, is refused; r3, which ships the contract, can serve."""
    recent = [HISTORY[0], promote("app:r1", "0001.init")]
    assert "it ships 0001.init, which no recorded promote applied" in schema_refusal("app:r1", recent)
    assert schema_refusal("app:r3", recent) is None

"""The deployment lease's decisions, process detection, values and file store (module_utils/lease.py)."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading
from decimal import Decimal

import pytest
from ansible_collections.switchyard.bluegreen.plugins.module_utils import lease_holder, lease_store
from ansible_collections.switchyard.bluegreen.plugins.module_utils.core import lease as L

NOW = 1_800_000_000.0
HOST = "runner-1"
ME = {"actor": "alice", "run_id": "run-2", "host": HOST, "pid": 500}
BOB = {"actor": "bob", "run_id": "run-1", "host": "laptop", "pid": 311}


def here(alive=(), host=HOST, now=NOW):
    """This machine: HOST, at NOW, where only the pids in alive are running ansible-playbooks."""
    return L.Here(now=now, host=host, alive=lambda pid: pid in alive)


def item(**changes):
    """A lease of production held by bob (token 7) for a promote, started 300 s ago, live for 600 s."""
    base = {
        "environment": "production",
        "token": 7,
        "state": "held",
        "operation": "promote",
        "phase": "baking",
        "holder": dict(BOB),
        "started": NOW - 300,
        "heartbeat": NOW - 60,
        "expires": NOW + 600,
        "ttl": int(NOW) + L.TTL_SECONDS,
        "details": {"image": "app@sha256:1111", "from_colour": "blue", "to_colour": "green"},
        "outcome": None,
        "preempted": None,
        "preempted_by": None,
        "took_over": None,
    }
    return {**base, **changes}


def request(**changes):
    base = {"environment": "production", "operation": "promote", "holder": dict(ME), "phase": None}
    return L.Request(**{**base, **changes})


# --- acquired ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "token"),
    [(None, 1), (item(state="released", outcome="succeeded"), 8), (item(state="released", token=41), 42)],
    ids=["no item", "released", "released later"],
)
def test_a_free_lease_is_acquired_with_the_next_token(current, token):
    decision = L.acquire(current, request(details={"image": "app@sha256:2222"}), here())

    assert decision.write and decision.failure is None and decision.took_over is None
    lease = decision.lease
    assert lease["token"] == token
    assert lease["state"] == "held" and lease["operation"] == "promote" and lease["phase"] == "started"
    assert lease["holder"] == ME
    assert (lease["started"], lease["heartbeat"], lease["expires"]) == (NOW, NOW, NOW + 900)
    assert lease["ttl"] == int(NOW) + 90 * 24 * 3600
    assert lease["details"] == {"image": "app@sha256:2222"}  # a new run's details, not the last run's
    assert set(lease) == set(L.FIELDS)


@pytest.mark.parametrize(
    ("current", "situation", "break_lease", "reason"),
    [
        (item(expires=NOW - 1), here(), False, "expired"),
        (item(holder=dict(ME, pid=400)), here(alive={500}), False, "interrupted"),
        (item(holder=dict(ME, pid=400)), here(alive={500}), True, "interrupted"),
        (item(), here(), True, "broken"),
        (item(holder=dict(BOB, host=HOST, pid=400)), here(), True, "broken"),
    ],
    ids=["expired", "interrupted, same actor", "interrupted beats broken", "broken", "other actor's dead run, broken"],
)
def test_a_stale_or_broken_lease_is_taken_over(current, situation, break_lease, reason):
    decision = L.acquire(current, request(break_lease=break_lease), situation)

    assert decision.write and decision.failure is None
    took_over = {"holder": current["holder"], "operation": "promote", "phase": "baking", "token": 7, "reason": reason}
    assert decision.took_over == took_over
    assert decision.lease["took_over"] == took_over
    assert decision.lease["token"] == 8 and decision.lease["holder"] == ME
    assert "Took over the deployment lease of production" in decision.warning
    assert "may have left the environment half way" in decision.warning


@pytest.mark.parametrize(
    ("current", "situation"),
    [
        (item(), here()),
        (item(holder=dict(ME, pid=400)), here(alive={400})),
        (item(holder=dict(ME, pid=400)), here(host="other-machine")),
        (item(holder=dict(ME, pid=None)), here()),
        (item(holder=dict(BOB, host=HOST, pid=400)), here()),
        (item(expires=NOW), here()),
    ],
    ids=[
        "other holder",
        "my actor, playbook alive",
        "dead pid but on another machine",
        "pid unknown",
        "dead pid of another actor",
        "expires exactly now",
    ],
)
def test_a_live_lease_is_refused(current, situation):
    decision = L.acquire(current, request(), situation)

    assert not decision.write and decision.lease == current and decision.took_over is None
    assert decision.failure.startswith("The deployment lease of production is held by")


def test_the_refusal_names_the_holder_its_run_and_the_ways_on():
    message = L.acquire(item(), request(), here()).failure

    assert message == (
        "The deployment lease of production is held by bob on laptop (run run-1, token 7) for promote, phase baking,"
        " started 300 s ago; it expires at 2027-01-15 08:10:00 UTC (600 s from now)."
        " To go on: wait until it expires; or run playbooks/rollback.yml, which always takes the lease over;"
        " or, if you know the holder is dead, pass -e switchyard_break_lease=true. Nothing was changed."
    )


def test_the_refusal_says_when_a_dead_run_here_belongs_to_someone_else():
    message = L.acquire(item(holder=dict(BOB, host=HOST, pid=400)), request(), here()).failure

    assert (
        "Its ansible-playbook (pid 400) no longer runs on this machine, but it was bob's run, not alice's." in message
    )


# --- preempted --------------------------------------------------------------------------------


def test_a_preemption_takes_a_held_lease_and_says_whom_it_preempted():
    rollback = request(operation="rollback", holder=dict(ME, run_id="run-3"))

    decision = L.preempt(item(), rollback, here())

    journal = {"image": "app@sha256:1111", "from_colour": "blue", "to_colour": "green"}
    preempted = {"holder": BOB, "operation": "promote", "phase": "baking", "token": 7, "details": journal}
    assert decision.write and decision.failure is None and decision.took_over is None
    assert decision.preempted == preempted
    lease = decision.lease
    assert lease["token"] == 8 and lease["operation"] == "rollback" and lease["holder"]["run_id"] == "run-3"
    assert lease["preempted"] == preempted
    assert lease["preempted_by"] == {"holder": dict(ME, run_id="run-3"), "operation": "rollback", "at": NOW}
    assert "rollback preempted bob on laptop (run run-1, token 7)" in decision.warning


@pytest.mark.parametrize(
    ("current", "token"),
    [(None, 1), (item(state="released"), 8)],
    ids=["no item", "released"],
)
def test_a_preemption_of_a_free_lease_preempts_nobody(current, token):
    decision = L.preempt(current, request(operation="rollback"), here())

    assert decision.write and decision.preempted is None and decision.warning is None
    assert decision.lease["token"] == token and decision.lease["preempted_by"] is None


def test_a_preemption_ignores_expiry_and_liveness():
    assert L.preempt(item(expires=NOW - 5000), request(operation="rollback"), here()).lease["token"] == 8
    assert L.preempt(item(holder=dict(ME)), request(operation="rollback"), here(alive={500})).lease["token"] == 8


def test_tokens_grow_by_one_on_every_acquisition_takeover_and_preemption():
    current, tokens = None, []
    steps = [
        (L.acquire, request()),
        (L.release, request(token=1, outcome="succeeded")),
        (L.acquire, request()),
        (L.preempt, request(operation="rollback")),
        (L.acquire, request(break_lease=True)),
        (L.release, request(token=4, outcome="failed")),
        (L.preempt, request(operation="rollback")),
    ]
    for step, asked in steps:
        decision = step(current, asked, here())
        assert decision.write
        current = decision.lease
        tokens.append(current["token"])

    assert tokens == [1, 1, 2, 3, 4, 4, 5]


# --- held -------------------------------------------------------------------------------------


def test_a_heartbeat_renews_the_lease_moves_the_phase_and_merges_details():
    current = item(holder=dict(ME), expires=NOW - 10)  # expired, but nobody took it: still ours
    asked = request(token=7, phase="switching 10", details={"standby_until": 1_800_003_600}, lease_seconds=120)

    decision = L.heartbeat(current, asked, here())

    assert decision.write and not decision.lost and decision.failure is None
    assert decision.lease == {
        **current,
        "phase": "switching 10",
        "heartbeat": NOW,
        "expires": NOW + 120,
        "ttl": int(NOW) + L.TTL_SECONDS,
        "details": {**current["details"], "standby_until": 1_800_003_600},
    }


def test_a_heartbeat_without_a_phase_keeps_it():
    assert L.heartbeat(item(), request(token=7), here()).lease["phase"] == "baking"


@pytest.mark.parametrize(
    ("current", "message"),
    [
        (
            item(token=8, operation="rollback", holder=dict(ME), started=NOW - 20),
            "promote lost the deployment lease of production: alice took it for rollback (token 8) at"
            " 2027-01-15 07:59:40 UTC; production is in the rollback's hands; this run changes nothing more.",
        ),
        (
            item(token=9, state="released", outcome="succeeded", started=NOW - 20),
            "promote lost the deployment lease of production: bob took it for promote (token 9) at"
            " 2027-01-15 07:59:40 UTC (released since: succeeded); production is in the promote's hands;"
            " this run changes nothing more.",
        ),
        (
            item(state="released", outcome="failed"),
            "promote no longer holds the deployment lease of production: token 7 was released (failed) at"
            " 2027-01-15 07:59:00 UTC; this run changes nothing more.",
        ),
        (
            None,
            "promote lost the deployment lease of production: the lease (token 7) no longer exists;"
            " this run changes nothing more.",
        ),
    ],
    ids=["taken by a rollback", "taken and released since", "released", "gone"],
)
def test_a_heartbeat_of_a_lost_lease_fails_and_says_who_has_it(current, message):
    decision = L.heartbeat(current, request(token=7, phase="baking"), here())

    assert not decision.write and decision.lost
    assert decision.lease == current
    assert decision.failure == message


def test_a_lost_heartbeat_without_an_operation_learns_it_from_the_item_that_replaced_it():
    preempted = L.preempt(item(), request(operation="rollback", holder=dict(ME)), here()).lease

    message = L.heartbeat(preempted, request(operation=None, token=7), here()).failure

    assert message.startswith("promote lost the deployment lease of production: alice took it for rollback (token 8)")
    assert L.heartbeat(item(token=9), request(operation=None, token=7), here()).failure.startswith("This run lost")


@pytest.mark.parametrize("current", [None, item(state="released"), item()], ids=["no item", "released", "held"])
def test_in_check_mode_a_token_above_the_stored_one_is_this_run_s_predicted_one(current):
    predicted = (current or {}).get("token", 0) + 1

    beat = L.heartbeat(current, request(token=predicted, phase="healthy", check_mode=True), here())
    released = L.release(current, request(token=predicted, outcome="succeeded", check_mode=True), here())

    assert beat.write and not beat.lost and beat.lease["token"] == predicted and beat.lease["phase"] == "healthy"
    assert released.write and not released.lost and released.lease["state"] == "released"


def test_outside_check_mode_a_token_above_the_stored_one_is_lost():
    assert L.heartbeat(item(), request(token=8), here()).lost
    assert L.heartbeat(item(), request(token=6, check_mode=True), here()).lost


# --- released ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "phase", "expected_phase"),
    [("succeeded", None, "succeeded"), ("failed", "rolled_back", "rolled_back"), (None, None, "baking")],
)
def test_the_holder_releases_the_lease(outcome, phase, expected_phase):
    decision = L.release(item(), request(token=7, outcome=outcome, phase=phase, details={"done": True}), here())

    assert decision.write and not decision.lost
    lease = decision.lease
    assert lease["state"] == "released" and lease["outcome"] == outcome and lease["phase"] == expected_phase
    assert lease["token"] == 7 and lease["heartbeat"] == NOW and lease["expires"] == NOW
    assert lease["details"]["done"] is True and lease["details"]["image"] == "app@sha256:1111"


def test_the_revisions_a_promote_leaves_are_kept_whole_until_a_takeover_rewrites_the_item():
    # A revision's body is what the next promote copies: kept whole (never redacted), written by a
    # promote's release only; a takeover that writes the whole item drops them (the guard's role may
    # not write them), and nothing shows them with the lease.
    kept = [
        {"arn": "td:4", "revision": 4, "body": {"secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn"}]}, "tags": []}
    ]
    released = L.release(item(), request(token=7, outcome="succeeded", revisions=kept), here()).lease
    assert released["revisions"] == kept
    fields, _ = L.holder_changes("released", request(token=7, outcome="succeeded", revisions=kept), here())
    assert fields["revisions"] == kept, "the one-call release writes them too"

    # A later holder's heartbeat and release leave them as they are (UpdateItem names them not).
    assert "revisions" not in L.holder_changes("released", request(token=8, outcome="done"), here())[0]
    assert "revisions" not in L.holder_changes("held", request(token=8, phase="x"), here())[0]
    assert "revisions" not in L.preempt(released, request(operation="rollback"), here()).lease
    assert "revisions" not in L.acquire(released, request(), here()).lease
    assert "revisions" not in L.status(released, here())["lease"]
    assert "revisions" not in L.LeaseLost("lost", released).lease


@pytest.mark.parametrize(
    "current",
    [item(token=8), item(token=8, state="released"), None],
    ids=["taken over", "taken over and released", "gone"],
)
def test_a_release_of_a_lost_lease_changes_nothing_and_does_not_fail(current):
    decision = L.release(current, request(token=7, outcome="succeeded"), here())

    assert not decision.write and decision.lost and decision.failure is None
    assert decision.lease == current


def test_a_second_release_by_the_same_run_changes_nothing():
    released = L.release(item(), request(token=7, outcome="succeeded"), here()).lease

    again = L.release(released, request(token=7, outcome="succeeded"), here(now=NOW + 5))

    assert not again.write and not again.lost and again.lease == released


@pytest.mark.parametrize("state", L.STATES)
def test_decide_dispatches_each_state(state):
    decision = L.decide(state, item(holder=dict(ME)), request(token=7, break_lease=True), here(alive={500}))

    assert decision.write


def test_secrets_never_reach_the_details():
    decision = L.acquire(None, request(details={"image": "app", "db_password": "hunter2"}), here())

    assert decision.lease["details"] == {"image": "app", "db_password": "REDACTED"}


# --- what deployment_lease_info says ----------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "situation", "expected"),
    [
        (None, here(), dict(held=False, expired=False, age_seconds=None, interrupted=False, in_flight=False)),
        (item(), here(), dict(held=True, expired=False, age_seconds=300, interrupted=False, in_flight=True)),
        (
            item(expires=NOW - 1),
            here(),
            dict(held=True, expired=True, age_seconds=300, interrupted=True, in_flight=False),
        ),
        (
            item(holder=dict(BOB, host=HOST, pid=400)),
            here(),
            dict(held=True, expired=False, age_seconds=300, interrupted=True, in_flight=False),
        ),
        (
            item(holder=dict(BOB, host=HOST, pid=400)),
            here(alive={400}),
            dict(held=True, expired=False, age_seconds=300, interrupted=False, in_flight=True),
        ),
        (
            item(state="released", expires=NOW - 100),
            here(),
            dict(held=False, expired=True, age_seconds=300, interrupted=False, in_flight=False),
        ),
    ],
    ids=["none", "in flight", "expired", "dead playbook here", "live playbook here", "released"],
)
def test_status_tells_in_flight_from_interrupted(current, situation, expected):
    assert L.status(current, situation) == {"lease": current, **expected}


# --- the play's pid, through /proc --------------------------------------------------------------


def fake_proc(root, processes):
    """processes: {pid: (ppid, argv)} as /proc/<pid>/stat and cmdline under root."""
    for pid, (ppid, argv) in processes.items():
        directory = root / str(pid)
        directory.mkdir()
        (directory / "stat").write_text(f"{pid} (python3 (x) y) S {ppid} {pid} {pid} 0 -1\n")
        (directory / "cmdline").write_bytes(b"\0".join(arg.encode() for arg in argv) + b"\0")
    return str(root)


PLAYBOOK = ["/work/.venv/bin/python", "/work/.venv/bin/ansible-playbook", "playbooks/promote.yml"]
MODULE = ["/usr/bin/python3", "/home/u/.ansible/tmp/AnsiballZ_deployment_lease.py"]
SHELL = ["/bin/sh", "-c", "/usr/bin/python3 AnsiballZ_deployment_lease.py && sleep 0"]


@pytest.mark.parametrize(
    ("processes", "expected"),
    [
        # module <- sh <- worker (a fork of ansible-playbook) <- ansible-playbook <- bash
        ({40: (30, MODULE), 30: (20, SHELL), 20: (10, PLAYBOOK), 10: (5, PLAYBOOK), 5: (1, ["-bash"])}, 10),
        ({40: (30, MODULE), 30: (10, SHELL), 10: (5, ["ansible-playbook-3.11", "x.yml"]), 5: (1, ["bash"])}, 10),
        ({40: (30, MODULE), 30: (1, ["bash", "-c", "ansible-playbook x.yml && true"])}, None),
        ({40: (30, MODULE), 30: (1, ["pytest", "tests/unit"])}, None),
        # an ansible-playbook further up, beyond another process: the nearest chain wins
        ({40: (20, MODULE), 20: (15, PLAYBOOK), 15: (10, SHELL), 10: (1, PLAYBOOK)}, 20),
    ],
    ids=["forked worker", "versioned script", "shell string is not a playbook", "no playbook", "nearest chain"],
)
def test_the_pid_is_the_play_s_ansible_playbook(tmp_path, processes, expected):
    proc = fake_proc(tmp_path, processes)

    assert lease_holder.playbook_pid(start=40, proc=proc) == expected


def test_without_proc_there_is_no_pid_and_every_pid_counts_as_alive(tmp_path):
    missing = str(tmp_path / "no-proc")

    assert lease_holder.playbook_pid(start=40, proc=missing) is None
    assert lease_holder.playbook_alive(400, proc=missing) is True


def test_a_pid_is_alive_while_it_is_an_ansible_playbook(tmp_path):
    proc = fake_proc(tmp_path, {10: (1, PLAYBOOK), 11: (1, ["sleep", "100"]), 12: (1, [])})

    assert lease_holder.playbook_alive(10, proc=proc) is True
    assert lease_holder.playbook_alive(11, proc=proc) is False  # the pid was reused
    assert lease_holder.playbook_alive(12, proc=proc) is False  # a zombie has no command line
    assert lease_holder.playbook_alive(13, proc=proc) is False  # gone


def test_this_process_is_found_through_the_real_proc():
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc")
    assert lease_holder.cmdline(os.getpid()) and lease_holder.parent_pid(os.getpid()) == os.getppid()
    assert lease_holder.playbook_pid() is None  # pytest is not a play


# --- values -----------------------------------------------------------------------------------


def test_dynamodb_numbers_become_ints_and_floats():
    value = {"token": Decimal("8"), "expires": Decimal("1800000900.5"), "n": [Decimal("1.0")], "s": "x"}

    assert L.plain(value) == {"token": 8, "expires": 1800000900.5, "n": [1.0], "s": "x"}
    assert isinstance(L.plain(value)["token"], int)


def test_an_item_survives_the_dynamodb_round_trip():
    lease = L.preempt(item(), request(operation="rollback", details={"ratio": 0.25}), here(now=NOW + 0.125)).lease

    attributes = lease_store.to_dynamodb(lease)

    assert attributes["token"] == {"N": "8"} and attributes["environment"] == {"S": "production"}
    assert attributes["outcome"] == {"NULL": True}
    assert lease_store.from_dynamodb(attributes) == lease


# --- the file store ---------------------------------------------------------------------------


def test_the_file_store_creates_its_directory_and_writes_atomically(tmp_path):
    path = tmp_path / "dev" / ".switchyard" / "lease.json"
    store = lease_store.FileStore(str(path))

    before, decision = store.settle("development", lambda current: L.acquire(current, request(), here()))

    assert before is None and decision.lease["token"] == 1
    assert json.loads(path.read_text()) == {"development": decision.lease}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["lease.json", "lease.json.lock"]  # no temporary left
    assert store.read("development") == decision.lease
    assert store.read("staging") is None


def test_the_file_store_keeps_each_environment_s_item(tmp_path):
    store = lease_store.FileStore(str(tmp_path / "lease.json"))

    store.settle("development", lambda current: L.acquire(current, request(), here()))
    store.settle("staging", lambda current: L.acquire(current, request(), here()))
    store.settle("development", lambda current: L.release(current, request(token=1, outcome="succeeded"), here()))

    assert store.read("development")["state"] == "released"
    assert store.read("staging")["state"] == "held"


def test_the_file_store_only_reads_when_asked_not_to_write(tmp_path):
    path = tmp_path / "nowhere" / "lease.json"

    before, decision = lease_store.FileStore(str(path)).settle(
        "development", lambda current: L.acquire(current, request(), here()), write=False
    )

    assert before is None and decision.write and decision.lease["token"] == 1
    assert not path.parent.exists()


def test_a_file_that_is_not_json_fails_clearly(tmp_path):
    path = tmp_path / "lease.json"
    path.write_text("{not json")

    with pytest.raises(L.LeaseError, match=r"lease file .*lease.json is not JSON"):
        lease_store.FileStore(str(path)).read("development")


def _acquire_in_a_process(path, actor, barrier, results):
    asked = request(holder=dict(ME, actor=actor))
    barrier.wait()
    _, decision = lease_store.FileStore(path).settle("development", lambda current: L.acquire(current, asked, here()))
    results.put((actor, decision.write))


def test_of_threads_acquiring_at_once_exactly_one_wins(tmp_path):
    path = str(tmp_path / "lease.json")
    barrier, outcomes = threading.Barrier(8), {}

    def contender(n):
        asked = request(holder=dict(ME, actor=f"actor-{n}"))
        barrier.wait()
        _, decision = lease_store.FileStore(path).settle(
            "development", lambda current: L.acquire(current, asked, here())
        )
        outcomes[n] = decision

    threads = [threading.Thread(target=contender, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = [n for n, decision in outcomes.items() if decision.write]
    assert len(outcomes) == 8 and len(winners) == 1
    stored = lease_store.FileStore(path).read("development")
    assert stored["token"] == 1 and stored["holder"]["actor"] == f"actor-{winners[0]}"
    assert all(d.failure.startswith("The deployment lease of") for n, d in outcomes.items() if n not in winners)


def test_of_processes_acquiring_at_once_exactly_one_wins(tmp_path):
    path = str(tmp_path / "lease.json")
    context = multiprocessing.get_context("fork")
    results, barrier = context.Queue(), context.Barrier(4)
    processes = [
        context.Process(target=_acquire_in_a_process, args=(path, actor, barrier, results)) for actor in "abcd"
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=30) for _ in processes)
    for process in processes:
        process.join(timeout=30)

    assert sorted(outcomes.values()) == [False, False, False, True]
    winner = next(actor for actor, won in outcomes.items() if won)
    assert lease_store.FileStore(path).read("development")["holder"]["actor"] == winner

"""Shared fixtures: a private AWS API emulator, playbook runs and boto3 clients against it."""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest

REPO = Path(__file__).resolve().parent.parent
SANDBOX_ROOT = REPO / "infrastructure" / "environments" / "sandbox"
TF_WORKSPACE = "pytest"
# The workflow runs' production stand-in (tests/integration/test_workflow_runs.py).
PRODUCTION_INVENTORY = REPO / "tests" / "workflows" / "inventories" / "production"
# What a failed sandbox test leaves for CI to keep (the emulator's, the harness's and the last
# playbooks' last lines), one folder per test; CI uploads the folder as it is.
ARTIFACTS = REPO / ".artifacts" / "tests"
TAIL_LINES = 40
_LOG_DIRS: list[Path] = []  # every emulator's and harness's log folder of this session
_LAST_PLAYBOOKS: collections.deque = collections.deque(maxlen=3)  # (command, PlaybookRun)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=5):
            return True
    except OSError:
        return False


def _post(endpoint: str, path: str, body: dict | None = None) -> None:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(f"{endpoint}{path}", data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10):
        pass


def root_copy(parent: Path) -> Path:
    """A copy of the sandbox root under parent (its modules linked): two applies cannot share one
    root, as selecting a workspace rewrites its .terraform."""
    infrastructure = parent / "infrastructure"
    (infrastructure / "environments").mkdir(parents=True)
    (infrastructure / "modules").symlink_to(REPO / "infrastructure" / "modules")
    root = infrastructure / "environments" / "sandbox"
    shutil.copytree(SANDBOX_ROOT, root, ignore=shutil.ignore_patterns(".terraform", "terraform.tfstate.d", "*.zip"))
    return root


@pytest.fixture(scope="session")
def sandbox_root(tmp_path_factory) -> Path:
    """This session's (this worker's) copy of the sandbox Terraform root, which every playbook of
    the session provisions through (SWITCHYARD_TERRAFORM_DIR): a developer's demo sandbox and the
    other worker's stack are never touched."""
    root = root_copy(tmp_path_factory.mktemp("sandbox-root"))
    os.environ["SWITCHYARD_TERRAFORM_DIR"] = str(root)
    try:
        yield root
    finally:
        os.environ.pop("SWITCHYARD_TERRAFORM_DIR", None)


@pytest.fixture(scope="session")
def harness_settings_file(tmp_path_factory) -> Path:
    """The sandbox harness's delivery settings, read again at every tick (see `harness_signals`)."""
    return tmp_path_factory.mktemp("harness") / "settings.json"


@pytest.fixture
def harness_signals(harness_settings_file):
    """Switch the harness's metric delivery for one test, e.g. to AWS-like late buckets on a
    compressed scale: harness_signals(period_seconds=10, delay_seconds=15). Back to fast after."""

    def change(**settings):
        harness_settings_file.write_text(json.dumps(settings))
        time.sleep(1.0)  # one harness tick

    yield change
    harness_settings_file.unlink(missing_ok=True)


@contextlib.contextmanager
def emulator(log_dir: Path, harness_settings: Path, external: str | None = None, enforce_iam: bool = False):
    """An AWS API emulator with the sandbox harness beside it: yields (endpoint, data plane URL).

    external: an emulator started elsewhere instead (it is reset first: use a disposable one).
    enforce_iam: an IAM user's calls are checked as AWS checks them (sandbox/sandbox_iam.py); other
    keys (the harness's, Terraform's, the tests') are the account's root.
    """
    process = None
    _LOG_DIRS.append(log_dir)
    if external:
        endpoint = external.rstrip("/")
        _post(endpoint, "/moto-api/reset")
    else:
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        log = (log_dir / "emulator.log").open("w")
        env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
        if enforce_iam:
            env["SWITCHYARD_EMULATOR_IAM"] = "enforce"
        process = subprocess.Popen(
            # moto's server, plus the one-off tasks its ECS cannot run (sandbox/sandbox_emulator.py).
            [sys.executable, str(REPO / "sandbox" / "sandbox_emulator.py"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 20
        while not _answers(endpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the AWS API emulator did not start on {endpoint}; see {log.name}")
            time.sleep(0.1)
    _post(
        endpoint,
        "/moto-api/state-manager/set-transition",
        {"model_name": "ecs::task", "transition": {"progression": "immediate"}},
    )
    # The sandbox harness fills the emulator's gaps (targets, ALB metrics): sandbox/sandbox_harness.py.
    # It runs fast (1-second buckets, no delay) unless a test asks for AWS-like delivery. Its data
    # plane answers the synthetic probes.
    data_plane_port = _free_port()
    harness_log = (log_dir / "harness.log").open("w")
    harness = subprocess.Popen(
        [
            *[sys.executable, str(REPO / "sandbox" / "sandbox_harness.py"), "--endpoint", endpoint],
            *["--tick", "0.5", "--fast", "--settings", str(harness_settings)],
            *["--data-plane-port", str(data_plane_port)],
        ],
        stdout=harness_log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield endpoint, f"http://127.0.0.1:{data_plane_port}"
    finally:
        harness.terminate()
        harness.wait(timeout=10)
        if process:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def sandbox_endpoint(tmp_path_factory, harness_settings_file, sandbox_root):
    """A private emulator on a free port, so tests never touch a developer's demo sandbox.

    SWITCHYARD_TEST_ENDPOINT points the suite at an emulator started elsewhere instead
    (it is reset first: use a disposable one, and one worker). Every playbook of the session finds
    the harness's data plane through the environment (the sandbox inventory reads
    SWITCHYARD_DATA_PLANE_URL).
    """
    external = os.environ.get("SWITCHYARD_TEST_ENDPOINT")
    if external and os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.fail("SWITCHYARD_TEST_ENDPOINT serves one session: run without -n (each worker resets it).")
    log_dir = tmp_path_factory.mktemp(f"emulator-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    with emulator(log_dir, harness_settings_file, external) as (endpoint, plane):
        os.environ["SWITCHYARD_DATA_PLANE_URL"] = plane
        try:
            yield endpoint
        finally:
            os.environ.pop("SWITCHYARD_DATA_PLANE_URL", None)


@dataclass
class PlaybookRun:
    """One ansible-playbook run, read through the JSON callback."""

    returncode: int
    report: dict
    stderr: str

    @property
    def stats(self) -> dict:
        return self.report.get("stats", {}).get("localhost", {})

    @property
    def changed(self) -> int:
        return self.stats.get("changed", 0)

    def task_results(self, name_part: str) -> list[dict]:
        """Results of every task whose name contains name_part."""
        found = []
        for play in self.report.get("plays", []):
            for task in play["tasks"]:
                if name_part in task["task"]["name"]:
                    found.append(task["hosts"]["localhost"])
        return found

    def failure_messages(self) -> list[str]:
        return [
            result.get("msg", "")
            for play in self.report.get("plays", [])
            for task in play["tasks"]
            for result in task["hosts"].values()
            if result.get("failed")
        ]


class StartedPlaybook:
    """An ansible-playbook run in the background (its own process group, so it can be killed whole)."""

    def __init__(self, command: list[str], env: dict[str, str]):
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the playbook and its workers at once, as a dying runner would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def wait(self, timeout: float = 600) -> PlaybookRun:
        stdout, stderr = self.process.communicate(timeout=timeout)
        try:
            report = json.loads(stdout[stdout.index("{") :])
        except ValueError:
            report = {}
        run = PlaybookRun(self.process.returncode, report, stderr)
        _LAST_PLAYBOOKS.append((self.process.args, run))
        return run


def playbook_runner(extra_env: dict[str, str], default_inventory: str, background: bool = False):
    """A function that runs one of our playbooks and reads its result through the JSON callback.

    With background=True the function starts the run and returns a StartedPlaybook.
    """
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **extra_env,
    }

    def run(playbook: str, *args: str, inventory: str = default_inventory):
        command = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            str(REPO / "playbooks" / playbook),
            "-i",
            str(REPO / "inventories" / inventory),
            *args,
        ]
        started = StartedPlaybook(command, env)
        return started if background else started.wait()

    return run


@pytest.fixture(scope="session")
def run_playbook(sandbox_endpoint):
    """Run a playbook against the sandbox inventory with the test emulator and workspace."""
    return playbook_runner({"AWS_ENDPOINT_URL": sandbox_endpoint, "SWITCHYARD_TF_WORKSPACE": TF_WORKSPACE}, "sandbox")


@pytest.fixture(scope="session")
def production_stand_in(sandbox_endpoint, tmp_path_factory):
    """The workflow runs' production stand-in, provisioned from nothing by provision.yml in the
    background: an emulator and harness of its own (the emulator gives every RDS instance the same
    resource id) and a copy of the sandbox root (two workspaces of one root cannot apply at once:
    selecting one rewrites .terraform). Started with the session's own stack, as both applies
    mostly wait on the AWS provider's fixed delays: together they take little longer than one.
    .provisioning.wait() is the run."""
    logs = tmp_path_factory.mktemp("production")
    root = root_copy(tmp_path_factory.mktemp("production-root"))
    with emulator(logs, logs / "harness.json", enforce_iam=True) as (endpoint, data_plane):
        env = {
            "AWS_ENDPOINT_URL": sandbox_endpoint,
            "SWITCHYARD_TF_WORKSPACE": TF_WORKSPACE,
            "SWITCHYARD_PRODUCTION_ENDPOINT_URL": endpoint,
            "SWITCHYARD_PRODUCTION_DATA_PLANE_URL": data_plane,
            "SWITCHYARD_PRODUCTION_TERRAFORM_DIR": str(root),
        }
        provision = playbook_runner(env, "sandbox", background=True)
        provisioning = provision("provision.yml", inventory=str(PRODUCTION_INVENTORY))
        yield SimpleNamespace(env=env, provisioning=provisioning)
        if provisioning.process.poll() is None:  # a session that ended before it needed the stand-in
            provisioning.kill()


def _needs_the_stack(item) -> bool:
    return "provisioned" in getattr(item, "fixturenames", ())


# Seconds per test file, measured (`pytest --durations=0`, setup, call and teardown summed per
# file): what the split into workers balances. A file not named here counts 10 s per test when it
# drives the sandbox (tests/integration), else 0.05 s.
FILE_SECONDS_FILE = REPO / "tests" / "file_seconds.json"
# The files that share the production stand-in (provisioned once, by the worker that runs them).
STAND_IN_FILES = ("tests/integration/test_least_privilege.py", "tests/integration/test_workflow_runs.py")


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def worker_groups(nodeids, workers: int) -> dict[str, str]:
    """{test file: group}, one group per worker: whole files, longest first, each to the group
    with least time so far; the stand-in's files together. A function of the collected test ids
    alone, so the scheduler (pytest_xdist_make_scheduler) and each worker (_my_items) agree."""
    try:
        measured = json.loads(FILE_SECONDS_FILE.read_text())
    except (OSError, ValueError):
        measured = {}
    counts = collections.Counter(_file_of(nodeid) for nodeid in nodeids)
    seconds = {
        path: measured.get(path, count * (10.0 if path.startswith("tests/integration/") else 0.05))
        for path, count in counts.items()
    }
    stand_in = [path for path in STAND_IN_FILES if path in seconds]
    units = [[path] for path in seconds if path not in stand_in] + ([stand_in] if stand_in else [])
    units.sort(key=lambda unit: -sum(seconds[path] for path in unit))
    totals = {f"worker-{index}": 0.0 for index in range(max(workers, 1))}
    groups = {}
    for unit in units:
        group = min(totals, key=lambda name: (totals[name], name))
        totals[group] += sum(seconds[path] for path in unit)
        groups.update(dict.fromkeys(unit, group))
    return groups


def pytest_collection_modifyitems(session, config, items):
    """Tests that need the session's stack last (each group in its own order): the stack is
    provisioned in the background meanwhile (`_provision_early`), which mostly waits on the AWS
    provider's fixed delays (an RDS instance alone: 80 s), while the tests before it run."""
    items[:] = [item for item in items if not _needs_the_stack(item)] + [i for i in items if _needs_the_stack(i)]


def pytest_xdist_make_scheduler(config, log):
    """With `-n N --dist loadgroup` (make test): each worker runs one group of whole files
    (worker_groups), so a worker knows from its first test which stacks it will need and
    provisions them at once. (xdist's own loadgroup names groups by a mark it appends to each test
    id, which pytest 9.2's test ids no longer take.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415 - only where xdist runs

    class WorkerGroups(LoadScopeScheduling):
        groups = None

        def _split_scope(self, nodeid):
            if self.groups is None:
                self.groups = worker_groups(self.collection, self.numnodes)
            return self.groups[_file_of(nodeid)]

    return WorkerGroups(config, log)


# The test being set up: a worker learns its group from its first test.
_CURRENT: list = [None]


def _my_items(request):
    """The tests this session runs: all of them, or under xdist those of this worker's group."""
    items = request.session.items
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
    if not workers or _CURRENT[0] is None:
        return items
    groups = worker_groups([item.nodeid for item in items], workers)
    mine = groups[_file_of(_CURRENT[0].nodeid)]
    return [item for item in items if groups[_file_of(item.nodeid)] == mine]


@pytest.fixture(scope="session", autouse=True)
def _provision_early(request):
    """Starts the session's stack (and the workflow runs' production stand-in) at the first test
    when any of this worker's tests needs it; `provisioned` waits for it."""
    items = _my_items(request)
    if not any(_needs_the_stack(item) for item in items):
        yield None
        return
    try:
        if any("production_stand_in" in item.fixturenames for item in items):
            request.getfixturevalue("production_stand_in")  # provisions meanwhile, in the background
        endpoint = request.getfixturevalue("sandbox_endpoint")
    except (Exception, pytest.fail.Exception) as error:  # noqa: BLE001 - failed by the tests that need the stack
        yield SimpleNamespace(error=error)
        return
    early = _start_provisioning(endpoint)
    yield early
    if early.run.process.poll() is None:  # a session that ended before it needed the stack
        early.run.kill()


def _start_provisioning(endpoint: str) -> SimpleNamespace:
    env = {"AWS_ENDPOINT_URL": endpoint, "SWITCHYARD_TF_WORKSPACE": TF_WORKSPACE}
    started = time.monotonic()
    run = playbook_runner(env, "sandbox", background=True)("provision.yml")
    return SimpleNamespace(run=run, started=started, error=None)


@pytest.fixture(scope="session")
def provisioned(_provision_early, aws, request):
    """The sandbox stack, provisioned once from nothing for the whole session.

    "initial" is how the new stack looked before any test deployed to it.
    """
    early = _provision_early or _start_provisioning(request.getfixturevalue("sandbox_endpoint"))
    if early.error:
        pytest.fail(f"the sandbox could not be started: {early.error}")
    run = early.run.wait(timeout=900)
    elapsed = time.monotonic() - early.started
    assert run.returncode == 0, f"provision.yml failed: {run.failure_messages() or run.stderr}"
    facts = run.task_results("Expose the stack's outputs")[0]["ansible_facts"]
    print(f"\nsandbox provisioned from nothing in {elapsed:.0f} s (in the background)")
    stack = facts["provision_stack"]
    elbv2, ecs = aws("elbv2"), aws("ecs")
    listeners = elbv2.describe_listeners(LoadBalancerArn=stack["load_balancer_arn"])["Listeners"]
    services = ecs.describe_services(cluster=stack["cluster_name"], services=list(stack["service_names"].values()))
    initial = {
        "actions": {listener["ListenerArn"]: listener["DefaultActions"] for listener in listeners},
        "desired": {service["serviceName"]: service["desiredCount"] for service in services["services"]},
    }
    return {"run": run, "stack": stack, "db": facts["provision_database"], "initial": initial}


@pytest.fixture(scope="session")
def aws(sandbox_endpoint):
    """boto3 clients bound to the test emulator."""

    def client(service: str):
        return boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url=sandbox_endpoint,
            aws_access_key_id="sandbox",
            aws_secret_access_key="sandbox",
        )

    return client


@pytest.fixture(scope="session")
def terraform_env(sandbox_endpoint, provisioned, sandbox_root):
    """Environment for running terraform by hand in the sandbox root's test workspace, with the
    guard's package that provision.yml built and passed (what provision.yml passes, by hand)."""
    package = sandbox_root / ".terraform" / "switchyard-guard.zip"
    sha256 = base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(REPO / ".cache" / "terraform.tfrc"),
        "TF_WORKSPACE": TF_WORKSPACE,
        "TF_IN_AUTOMATION": "1",
        "TF_VAR_aws_endpoint": sandbox_endpoint,
        "TF_VAR_guard_package": json.dumps({"path": ".terraform/switchyard-guard.zip", "sha256": sha256}),
    }


def _tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a log, without the emulator's lines for calls that succeeded."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no {path.name})"
    return "\n".join([line for line in text if not re.search(r'" 200 -$', line)][-lines:])


def _playbook_lines(command, run: PlaybookRun) -> str:
    failures = "\n".join(f"  failed: {message}" for message in run.failure_messages())
    stderr = "\n".join(run.stderr.splitlines()[-TAIL_LINES:])
    arguments = " ".join(str(part).replace(str(REPO) + "/", "") for part in command[1:])
    return f"$ ansible-playbook {arguments}  (exit {run.returncode})\n{failures}\n{stderr}".rstrip()


@pytest.hookimpl(tryfirst=True)  # before the fixtures' set-up, whose playbooks count as the test's
def pytest_runtest_setup(item):
    """A failure shows this test's playbooks only (its fixtures' included)."""
    _LAST_PLAYBOOKS.clear()
    _CURRENT[0] = item


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed sandbox test shows the last lines of the emulator's, the harness's and the last
    playbooks' output, and leaves them under .artifacts/tests/<test>/: a red CI run can be read
    without running it again."""
    report = yield
    if report.failed and "sandbox_endpoint" in getattr(item, "fixturenames", ()) and _LOG_DIRS:
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", item.nodeid)
        folder.mkdir(parents=True, exist_ok=True)
        for log_dir in _LOG_DIRS:
            for log in sorted(log_dir.glob("*.log")):
                tail = _tail(log)
                (folder / f"{log_dir.name}-{log.name}").write_text(tail + "\n")
                report.sections.append((f"{log_dir.name}/{log.name} (last lines)", tail))
        playbooks = "\n\n".join(_playbook_lines(command, run) for command, run in _LAST_PLAYBOOKS)
        (folder / "playbooks.txt").write_text(playbooks + "\n")
        report.sections.append(("the last playbooks", playbooks))
    return report

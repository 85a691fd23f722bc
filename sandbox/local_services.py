"""Local processes for tests and benchmarks: PostgreSQL, the sample service, HAProxy.

Native stand-ins for the development environment's containers (this machine has no Docker
engine): Debian's PostgreSQL and HAProxy, and the service run as `python -m switchyard_app.server`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# The collection's own runtime API client (pure Python: importable without Ansible).
from plugins.module_utils.haproxy import runtime_command  # noqa: E402

APP_DIR = REPO / "app"
# The migration role is the database's owner ('app', who created it); the service connects as the
# runtime role the migrations grant rows only (see app/switchyard_app/migrate.py).
RUNTIME_ROLE = {"DB_USER": "app_runtime"}
MIGRATE = ["python", "-m", "switchyard_app.migrate", "apply"]


class ServiceError(RuntimeError):
    """A local process did not come up; the message says which and where its log is."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if candidates:
        return Path(candidates[0])
    if shutil.which("pg_ctl"):
        return Path(shutil.which("pg_ctl")).parent
    raise ServiceError("PostgreSQL server binaries not found: install Debian's postgresql (.ci/run does).")


def _as_postgres_user(command: list[str]) -> list[str]:
    """initdb refuses to run as root; drop to the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres() -> Iterator[dict[str, str]]:
    """A throwaway cluster on a free port with a database 'app'; yields the service's DB_* settings."""
    bindir = postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="switchyard-pg-"))  # not pytest's tmp: the server runs as postgres
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    try:
        subprocess.run(
            _as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-U", "app", "--auth=trust", "-E", "UTF8"]),
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=200"
        subprocess.run(
            _as_postgres_user(
                [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
            ),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                str(bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "app",
                "-d",
                "postgres",
                "-c",
                "CREATE DATABASE app",
            ],
            check=True,
            capture_output=True,
        )
        yield {
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(port),
            "DB_NAME": "app",
            "DB_USER": "app",
            "DB_PASSWORD": "unused",
        }
    finally:
        subprocess.run(
            _as_postgres_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def wait_for(url: str, process: subprocess.Popen, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            where = getattr(process, "log_path", None)
            raise ServiceError(f"{process.args} exited with {process.returncode} before answering {url} (log: {where})")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise ServiceError(f"nothing answered {url} within {timeout} s")


def image_slug(image: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "_" for c in image)


def build_image(images_dir: Path, image: str, migrations: int) -> None:
    """A stand-in for `docker build` of an older release: the image ships the first N migrations
    of app/migrations (the service's code follows the migrations it ships)."""
    target = images_dir / image_slug(image) / "migrations"
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted((APP_DIR / "migrations").glob("*.sql"))[:migrations]:
        shutil.copy(path, target / path.name)


def image_env(image: str, env: dict[str, str]) -> dict[str, str]:
    """What a process of `image` needs to be that release: the migrations it ships (every one of
    app/migrations unless env's SWITCHYARD_LOCAL_IMAGES holds a build of it)."""
    images = env.get("SWITCHYARD_LOCAL_IMAGES")
    built = Path(images) / image_slug(image) / "migrations" if images else None
    return {"APP_MIGRATIONS_DIR": str(built if built and built.is_dir() else APP_DIR / "migrations")}


def run_once(image: str, command: list[str], extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A one-off container of `image` (`docker compose run --rm`): the command runs in the app's
    directory with the environment's database settings (the migration role's); output captured."""
    env = {**os.environ, **(extra_env or {})}
    env.update(image_env(image, env))
    argv = [sys.executable, *command[1:]] if command and command[0] == "python" else command
    return subprocess.run(argv, cwd=APP_DIR, env=env, capture_output=True, text=True, check=False)


def migrate(env: dict[str, str], image: str, *keep: str) -> None:
    """Apply `image`'s migrations as the migration role (env's DB_*); ServiceError when they fail."""
    done = run_once(image, [*MIGRATE, "--release", image, *(f"--keep={k}" for k in keep)], env)
    if done.returncode:
        raise ServiceError(f"the migrations of {image} failed ({done.returncode}): {done.stderr or done.stdout}")


def start_service(db: dict[str, str], version: str, **overrides: str) -> tuple[str, subprocess.Popen]:
    """The sample service as a process (as its container runs it), as the runtime role; the caller stops it."""
    port = free_port()
    env = {**os.environ, **db, **RUNTIME_ROLE, "PORT": str(port), "APP_VERSION": version, **overrides}
    # A file, not a pipe: nobody reads the log while it runs, and a full pipe would block the service.
    log = tempfile.NamedTemporaryFile(prefix=f"switchyard-app-{version}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "switchyard_app.server"],
        cwd=APP_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log_path = log.name
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/version", process)
    return base, process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if getattr(process, "log_path", None):
        Path(process.log_path).unlink(missing_ok=True)


DEV_HAPROXY_CONFIG = REPO / "dev" / "haproxy.cfg"


def native_haproxy_config(socket_path: Path, front_port: int, test_port: int, backends: dict[str, int]) -> str:
    """dev/haproxy.cfg with loopback addresses instead of the compose network's names.

    The tests and benchmarks run the development environment's own configuration, so what they
    show holds for it. Every substitution must apply, or the file changed and this must follow.
    """
    text = DEV_HAPROXY_CONFIG.read_text()
    substitutions = [
        ("/var/run/haproxy/admin.sock", str(socket_path), 1),
        ("bind :8080", f"bind 127.0.0.1:{front_port}", 1),
        ("bind :8081", f"bind 127.0.0.1:{test_port}", 1),
        (" resolvers docker\n", "\n", 2),
        ("resolvers docker\n    nameserver dns 127.0.0.11:53\n", "", 1),
        *((f"{colour}:8080", f"127.0.0.1:{port}", 2) for colour, port in backends.items()),
    ]
    for old, new, count in substitutions:
        if text.count(old) != count:
            raise ServiceError(
                f"{DEV_HAPROXY_CONFIG} no longer has {old!r} {count} time(s): update native_haproxy_config"
            )
        text = text.replace(old, new)
    return text


class HAProxy:
    """HAProxy in front of the colours, switched through its runtime API (the admin socket)."""

    def __init__(self, socket_path: Path, front_url: str, test_url: str, colours: list[str]):
        self.socket_path, self.front_url, self.test_url, self.colours = socket_path, front_url, test_url, colours

    def command(self, line: str) -> str:
        return runtime_command(str(self.socket_path), line)

    def switch_to(self, colour: str) -> None:
        """All new requests to colour (as the roles do: weights, heaviest first); the others drain."""
        self.command(f"set weight app/{colour} 100")
        for other in self.colours:
            if other != colour:
                self.command(f"set weight app/{other} 0")


@contextlib.contextmanager
def haproxy(backends: dict[str, int], live: str) -> Iterator[HAProxy]:
    """HAProxy with dev/haproxy.cfg on free ports, one server per colour, all traffic on `live`."""
    if not shutil.which("haproxy"):
        raise ServiceError("haproxy not found: install Debian's haproxy (.ci/run does).")
    root = Path(tempfile.mkdtemp(prefix="switchyard-haproxy-"))
    front_port, test_port = free_port(), free_port()
    config = root / "haproxy.cfg"
    config.write_text(native_haproxy_config(root / "admin.sock", front_port, test_port, backends))
    process = subprocess.Popen(
        ["haproxy", "-db", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        balancer = HAProxy(
            root / "admin.sock", f"http://127.0.0.1:{front_port}", f"http://127.0.0.1:{test_port}", list(backends)
        )
        deadline = time.monotonic() + 10
        while not balancer.socket_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServiceError(
                    f"haproxy did not start: {process.stdout.read() if process.poll() is not None else 'timeout'}"
                )
            time.sleep(0.05)
        balancer.switch_to(live)
        yield balancer
    finally:
        stop(process)
        shutil.rmtree(root, ignore_errors=True)


# --- The development environment's colours as processes (the tests' stand-in for compose) ------------


def _pid_file(state_dir: Path, colour: str) -> Path:
    return state_dir / f"{colour}.pid"


def _running(pid: int) -> bool:
    """Whether the process still runs; a zombie (exited, not yet reaped by its parent) does not."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def stop_colour(state_dir: Path, colour: str) -> None:
    """SIGTERM the colour's process (it drains requests in flight) and wait for it to exit."""
    pid_file = _pid_file(state_dir, colour)
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 35  # the service drains for up to 30 s
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _running(pid):
            os.kill(pid, signal.SIGKILL)
    pid_file.unlink()


def run_colour(
    state_dir: Path, colour: str, image: str, port: int, *, extra_env: dict[str, str] | None = None, timeout: float = 30
) -> None:
    """Replace the colour's instance with one that runs `image`, as `docker compose up --wait` does.

    The process outlives the caller (its own session); its pid is kept in state_dir. It answers
    /version with the image, as the containers do (APP_VERSION). A faulty build is played by
    SWITCHYARD_FAULTY_IMAGE=<image>: only that image gets APP_FAULT_PERCENT.
    """
    stop_colour(state_dir, colour)
    env = {
        **os.environ,
        **(extra_env or {}),
        **RUNTIME_ROLE,
        "PORT": str(port),
        "APP_VERSION": image,
    }
    env.update(image_env(image, env))
    if env.pop("SWITCHYARD_FAULTY_IMAGE", None) != image:
        env.pop("APP_FAULT_PERCENT", None)
    log = (state_dir / f"{colour}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "switchyard_app.server"],
        cwd=APP_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _pid_file(state_dir, colour).write_text(str(process.pid))
    process.log_path = state_dir / f"{colour}.log"  # named in wait_for's error
    wait_for(f"http://127.0.0.1:{port}/healthz", process, timeout)


@dataclasses.dataclass
class Development:
    """The development environment run natively, and how to run our playbooks against it."""

    balancer: HAProxy
    state_dir: Path
    env: dict[str, str]  # DB_*, and what run-colour needs
    stack: dict  # switchyard_local_stack for -e

    def playbook(self, playbook: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        """ansible-playbook <playbook> -i inventories/development with this stack; output captured."""
        bindir = Path(sys.executable).parent
        command = [
            str(bindir / "ansible-playbook"),
            str(REPO / "playbooks" / playbook),
            "-i",
            str(REPO / "inventories" / "development"),
            "-e",
            json.dumps({"switchyard_local_stack": self.stack}),
            *args,
        ]
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
            **self.env,
            **extra_env,
        }
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)

    def weight(self, colour: str) -> int:
        """The colour's production weight as HAProxy holds it ("get weight" answers "0 (initial 100)")."""
        return int(self.balancer.command(f"get weight app/{colour}").split()[0])

    def run_colour(self, colour: str, image: str) -> None:
        port = int(self.env[f"SWITCHYARD_{colour.upper()}_PORT"])
        run_colour(self.state_dir, colour, image, port, extra_env=self.env)


@contextlib.contextmanager
def development(live_image: str, images: dict[str, int] | None = None) -> Iterator[Development]:
    """PostgreSQL migrated by live_image, HAProxy with dev/haproxy.cfg, and blue running live_image
    and serving; green not running. images: builds of older releases, {image: migrations it ships}."""
    state_dir = Path(tempfile.mkdtemp(prefix="switchyard-dev-"))
    ports = {"blue": free_port(), "green": free_port()}
    for image, count in (images or {}).items():
        build_image(state_dir / "images", image, count)
    with postgres() as db, haproxy(ports, live="blue") as balancer:
        env = {
            **db,
            "SWITCHYARD_LOCAL_DIR": str(state_dir),
            "SWITCHYARD_LOCAL_IMAGES": str(state_dir / "images"),
            **{f"SWITCHYARD_{colour.upper()}_PORT": str(port) for colour, port in ports.items()},
        }
        stack = {
            "socket": str(balancer.socket_path),
            "production_backend": "app",
            "test_backend": "app_test",
            "production_url": balancer.front_url,
            "test_url": balancer.test_url,
            "run_command": [sys.executable, str(Path(__file__).resolve()), "run-colour"],
            "run_once_command": [sys.executable, str(Path(__file__).resolve()), "run-once"],
            "project_dir": str(REPO),
            "record_file": str(state_dir / "deployments.jsonl"),
        }
        environment = Development(balancer, state_dir, env, stack)
        try:
            migrate(env, live_image)
            environment.run_colour("blue", live_image)
            wait_until_serving(balancer.front_url, live_image)  # HAProxy's checks see blue come up
            yield environment
        finally:
            for colour in ports:
                stop_colour(state_dir, colour)
            shutil.rmtree(state_dir, ignore_errors=True)


def served_version(url: str) -> str:
    with urllib.request.urlopen(f"{url}/version", timeout=5) as response:
        return json.load(response)["version"]


def wait_until_serving(url: str, version: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError):
            if served_version(url) == version:
                return
        if time.monotonic() > deadline:
            raise ServiceError(f"{url} does not serve {version} after {timeout} s")
        time.sleep(0.2)


def main(argv: list[str]) -> int:
    """run-colour <colour> and run-once <colour> <command...>: the native run commands of the
    development stack (see tests)."""
    if len(argv) > 2 and argv[0] == "run-once":
        colour, command = argv[1], argv[2:]
        image = os.environ.get(f"{colour.upper()}_IMAGE")
        if not image:
            print(f"run-once {colour}: set {colour.upper()}_IMAGE", file=sys.stderr)
            return 2
        done = run_once(image, command)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        return done.returncode
    if len(argv) != 2 or argv[0] != "run-colour":
        print(
            "usage: local_services.py run-colour <colour>  (env: <COLOUR>_IMAGE, SWITCHYARD_LOCAL_DIR,", file=sys.stderr
        )
        print("       SWITCHYARD_<COLOUR>_PORT, DB_*)", file=sys.stderr)
        return 2
    colour = argv[1]
    missing = [
        name
        for name in (f"{colour.upper()}_IMAGE", "SWITCHYARD_LOCAL_DIR", f"SWITCHYARD_{colour.upper()}_PORT")
        if not os.environ.get(name)
    ]
    if missing:
        print(f"run-colour {colour}: set {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        run_colour(
            Path(os.environ["SWITCHYARD_LOCAL_DIR"]),
            colour,
            os.environ[f"{colour.upper()}_IMAGE"],
            int(os.environ[f"SWITCHYARD_{colour.upper()}_PORT"]),
        )
    except ServiceError as e:
        print(f"run-colour {colour}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

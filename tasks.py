"""Developer tasks (invoke). Nothing here needs Docker: PostgreSQL and Redis run on the host."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from invoke import Exit, UnexpectedExit, task

ROOT = Path(__file__).resolve().parent
CONFIG = ROOT / "development" / "nautobot_config.py"
PYTHON = sys.executable
BIN = Path(PYTHON).parent
os.environ.setdefault("NAUTOBOT_CONFIG", str(CONFIG))

SERVICES = {
    "PostgreSQL": (
        os.getenv("NAUTOBOT_DB_HOST", "127.0.0.1"),
        int(os.getenv("NAUTOBOT_DB_PORT", "5432")),
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    ),
    "Redis": (
        urlsplit(os.getenv("NAUTOBOT_REDIS_URL", "redis://127.0.0.1:6379")).hostname,
        urlsplit(os.getenv("NAUTOBOT_REDIS_URL", "redis://127.0.0.1:6379")).port or 6379,
        'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
    ),
}


def nautobot_server(c, command, **kwargs):
    return c.run(f"{BIN / 'nautobot-server'} {command}", **kwargs)


def check_services():
    """Fail in one line per missing service, with how to start it, instead of hanging."""
    down = []
    for name, (host, port, start) in SERVICES.items():
        try:
            with socket.create_connection((host, port), timeout=2):
                pass
        except OSError:
            down.append(f"{name} is not reachable on {host}:{port}; start it with: {start}")
    if down:
        raise Exit("\n".join(down), code=2)


def ensure_database(name):
    import psycopg2

    host, port, _ = SERVICES["PostgreSQL"]
    connection = psycopg2.connect(
        host=host,
        port=port,
        user=os.getenv("NAUTOBOT_DB_USER", "postgres"),
        password=os.getenv("NAUTOBOT_DB_PASSWORD", ""),
        dbname="postgres",
        connect_timeout=5,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


@task
def lint(c):
    """ruff lint and format check."""
    c.run(f"{BIN / 'ruff'} check .")
    c.run(f"{BIN / 'ruff'} format --check .")


@task
def migrate(c):
    """Create the database if needed and apply migrations."""
    check_services()
    ensure_database(os.getenv("NAUTOBOT_DB_NAME", "nautobot_cm"))
    nautobot_server(c, "migrate --no-input")


@task
def makemigrations(c, name=""):
    """Make the app's migrations."""
    nautobot_server(c, f"makemigrations nautobot_ssot_circuit_maintenance {'--name ' + name if name else ''}")


@task
def check_migrations(c):
    """Fail if models and migrations disagree."""
    nautobot_server(c, "makemigrations nautobot_ssot_circuit_maintenance --check --dry-run")


@task
def createsuperuser(c, user="admin"):
    """Create a superuser (asks for the password)."""
    nautobot_server(c, f"createsuperuser --username {user}", pty=True)


@task
def nbshell(c):
    """Nautobot's shell."""
    nautobot_server(c, "nbshell", pty=True)


@task
def runserver(c, port=8080, reload=True):
    """Serve the web UI on 127.0.0.1 (foreground)."""
    check_services()
    options = "" if reload else " --noreload"
    nautobot_server(c, f"runserver 127.0.0.1:{port} --insecure{options}", pty=sys.stdout.isatty())


STATE = ROOT / "development" / ".state"


def _die_with_parent():
    """In the child: the kernel sends it SIGTERM when the task that started it ends, however it ends (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_background(name, arguments):
    """Start `nautobot-server ARGUMENTS` in its own process group, output in .state/NAME.log."""
    STATE.mkdir(parents=True, exist_ok=True)
    log = open(STATE / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process in stop_background
    process = subprocess.Popen(  # noqa: S603 - our own executable and arguments
        [str(BIN / "nautobot-server"), *arguments],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in the terminal reaches the server only; we stop these ourselves
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads run in the child before exec
    )
    process.log = log
    return process


def stop_background(process, timeout=30):
    """SIGTERM to the process group (a Celery worker's children too), SIGKILL after `timeout` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    process.log.close()


@contextmanager
def celery_services(beat=True):
    """Nautobot's Celery worker (runs jobs) and beat (starts scheduled jobs), stopped when the block ends."""
    processes = [start_background("celery-worker", ["celery", "worker", "--loglevel", "INFO", "--concurrency", "1"])]
    if beat:
        # Nautobot's beat reads the scheduled jobs from the database (NautobotDatabaseScheduler).
        processes.append(start_background("celery-beat", ["celery", "beat", "--loglevel", "INFO"]))
    print(f"==> Celery worker and beat started (logs: {STATE}/celery-*.log)", flush=True)
    try:
        time.sleep(1)
        for process in processes:
            if process.poll() is not None:
                raise Exit(f"Celery {process.args[2]} stopped at once; see {STATE}/celery-{process.args[2]}.log")
        yield processes
    finally:
        # A second Ctrl-C must not leave them running: ignore it while they stop.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for process in processes:
                stop_background(process)
        finally:
            signal.signal(signal.SIGINT, previous)
        print("==> Celery worker and beat stopped", flush=True)


@task
def worker(c, beat=True):
    """Nautobot's Celery worker and beat in the foreground (jobs, schedules, Sync and Export buttons)."""
    check_services()
    command = f"{BIN / 'nautobot-server'} celery worker --loglevel INFO --concurrency 1"
    if beat:
        command += " --beat"
    c.run(command, pty=sys.stdout.isatty())


@task(help={"serve": "serve the UI afterwards (default); --no-serve for scripts"})
def demo(c, serve=True, port=8080):
    """Demo: database, providers and circuits, sample mailbox, a worker and beat, the sync for real, the UI.

    The sync runs the way production runs it: queued by Nautobot and executed by the Celery worker, which
    keeps running beside the web server (with beat, which starts the demo's scheduled sync every 15
    minutes) until the server stops.
    """
    check_services()
    ensure_database(os.getenv("NAUTOBOT_DB_NAME", "nautobot_cm"))
    print("==> Migrating the database (the first time takes a few minutes)")
    nautobot_server(c, "migrate --no-input", hide="both")
    if serve:
        nautobot_server(c, "collectstatic --no-input", hide="out")
    with celery_services(beat=serve):
        c.run(f"{PYTHON} {ROOT / 'development' / 'demo.py'}", pty=False)
        if serve:
            print(f"==> Serving http://127.0.0.1:{port}/  (Ctrl-C stops the server, the worker and beat)")
            try:
                runserver(c, port=port, reload=False)
            except (KeyboardInterrupt, UnexpectedExit):
                pass  # Ctrl-C: the server stopped; the worker and beat stop next


# Debian package → the command it provides: Dovecot for the IMAP tests, Chromium for the browser tests.
SYSTEM_PACKAGES = {"dovecot-imapd": "dovecot", "chromium": "chromium", "chromium-driver": "chromedriver"}


@task
def install_system_deps(c):
    """Debian packages the tests need (Dovecot, Chromium and its driver); a no-op when present."""
    missing = [pkg for pkg, command in SYSTEM_PACKAGES.items() if not shutil.which(command)]
    if not missing:
        return
    sudo = "" if os.geteuid() == 0 else "sudo "
    c.run(
        f"{sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
        f"{sudo}apt-get install -y -qq --no-install-recommends {' '.join(missing)}"
    )


@task(help={"keepdb": "keep the test database between runs (default; CI uses --no-keepdb)", "label": "tests to run"})
def unittest(c, keepdb=True, label="tests", failfast=False, verbose=False):
    """The test suite (Django's runner, Nautobot's test settings) against PostgreSQL, Redis and Dovecot."""
    check_services()
    install_system_deps(c)
    args = ["--parallel 1", "--no-input"]
    if keepdb:
        args.append("--keepdb")
    if failfast:
        args.append("--failfast")
    if verbose:
        args.append("-v 2")
    nautobot_server(c, f"test {' '.join(args)} {label}")


@task(help={"keepdb": "keep the test database between runs"})
def tests(c, keepdb=True):
    """Lint, migrations check, then the whole suite."""
    lint(c)
    check_services()
    check_migrations(c)
    unittest(c, keepdb=keepdb)
    print("All checks passed.")


@task(help={"count": "mails in the backlog", "memory": "trace peak Python memory (slower)"})
def benchmark(c, count=5000, memory=False):
    """First sync of a backlog vs the parser alone; SQL per mail; a run with no new mail (demo database)."""
    check_services()
    c.run(f"{PYTHON} {ROOT / 'development' / 'benchmark.py'} --count {count} {'--memory' if memory else ''}")


@task(
    help={
        "examples": "batches of hostile mail (each one job run, a second run and the page checks)",
        "batch": "hostile mails per batch",
        "seed": "hypothesis seed (default: a random one, printed so a failure can be replayed)",
        "shrink": "let hypothesis shrink a failing batch (one job run per step: slow)",
        "keepdb": "keep the test database between runs",
    }
)
def fuzz(c, examples=50, batch=40, seed=None, shrink=False, keepdb=True):
    """A long fuzz campaign: hostile mail through the real sync job (tests/test_fuzz.py).

    CI runs the same test with a fixed seed and a small budget (the pinned cases, then 3 x 20 mails). Here it is
    `examples` x `batch` mails with a random seed; replay a failure with the printed command (same
    seed, examples and batch).
    A failing batch's files and recipes are kept under CM_FUZZ_SAVE (default /tmp/cm-fuzz-failures).
    """
    import secrets

    check_services()
    seed = int(seed) if seed is not None else secrets.randbelow(2**32)
    print(f"==> fuzz: seed {seed}, {examples} batches of {batch} hostile mails ")
    print(f"    replay: ./run fuzz --seed {seed} --examples {examples} --batch {batch}")
    env = {
        "CM_FUZZ_SEED": str(seed),
        "CM_FUZZ_EXAMPLES": str(examples),
        "CM_FUZZ_BATCH": str(batch),
        "CM_FUZZ_SHRINK": "1" if shrink else "0",
    }
    args = "--parallel 1 --no-input" + (" --keepdb" if keepdb else "")
    nautobot_server(c, f"test {args} tests.test_fuzz", env=env)

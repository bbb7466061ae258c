"""Developer tasks (invoke). Nothing here needs Docker: PostgreSQL and Redis run on the host."""

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from invoke import Exit, task

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


# The Nautobot releases the app supports (pyproject.toml and CircuitMaintenanceConfig say the same).
SUPPORTED_RELEASES = ("3.0", "3.1", "3.2")


def release_venv(c, release):
    """A virtualenv of the app on Nautobot `release` (e.g. 3.0): .venv-nautobot-<release>, built once."""
    import hashlib

    if release not in SUPPORTED_RELEASES:
        raise Exit(f"Nautobot {release} is not supported; use one of {', '.join(SUPPORTED_RELEASES)}", code=2)
    venv = ROOT / f".venv-nautobot-{release}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = venv / f".installed-{digest}"
    if not stamp.exists():
        print(f"==> Installing the app on Nautobot {release}.* into {venv.name} (first run only)")
        if not (venv / "bin" / "python").exists():
            c.run(f"{PYTHON} -m venv {venv}")
        c.run(f"{venv / 'bin' / 'python'} -m pip install --quiet --upgrade pip")
        # Nautobot 3.0's test helpers import splinter, which later releases leave optional.
        python = venv / "bin" / "python"
        c.run(f"{python} -m pip install --quiet -e '{ROOT}[dev,metrics]' 'nautobot=={release}.*' splinter")
        for old in venv.glob(".installed-*"):
            old.unlink()
        stamp.touch()
    return venv / "bin"


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


def _admin_connection():
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
    return connection


def _database_exists(cursor, name):
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone() is not None


def ensure_database(name):
    connection = _admin_connection()
    with connection.cursor() as cursor:
        if not _database_exists(cursor, name):
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def drop_database(name):
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    connection.close()


def clone_database(source, target):
    """Create `target` as a copy of `source` (when `source` exists and `target` does not): migrations already done."""
    connection = _admin_connection()
    with connection.cursor() as cursor:
        if _database_exists(cursor, source) and not _database_exists(cursor, target):
            cursor.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    connection.close()


def test_database_names():
    """The main suite's test database and the older-app phase's (see development/nautobot_config_older_app.py)."""
    main = os.getenv("NAUTOBOT_TEST_DB_NAME", "test_nautobot_cm")
    return main, os.getenv("NAUTOBOT_OLDER_APP_TEST_DB_NAME", f"{main}_older_app")


@task
def lint(c):
    """ruff lint and format check; pylint-nautobot's checks of the app's Nautobot API use."""
    c.run(f"{BIN / 'ruff'} check .")
    c.run(f"{BIN / 'ruff'} format --check .")
    c.run(f"{BIN / 'pylint'} --rcfile pyproject.toml nautobot_ssot_circuit_maintenance")


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


# The demo's files and its processes' logs (CM_DEMO_STATE: a test's own directory).
STATE = Path(os.getenv("CM_DEMO_STATE", str(ROOT / "development" / ".state")))


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
        # A second Ctrl-C or SIGTERM must not leave them running: ignore both while they stop.
        previous = {number: signal.signal(number, signal.SIG_IGN) for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            for process in processes:
                stop_background(process)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        print("==> Celery worker and beat stopped", flush=True)


@task
def worker(c, beat=True):
    """Nautobot's Celery worker and beat in the foreground (jobs, schedules, Sync and Export buttons)."""
    check_services()
    command = f"{BIN / 'nautobot-server'} celery worker --loglevel INFO --concurrency 1"
    if beat:
        command += " --beat"
    c.run(command, pty=sys.stdout.isatty())


@task(
    help={
        "user": "username the runs are started as (default: the first active superuser)",
        "poll_seconds": "also sync the non-IMAP sources this often (default 0: not at all)",
    }
)
def watch(c, user="", poll_seconds=0):
    """The mailbox watcher in the foreground: new IMAP mail starts the sync at once (needs a worker)."""
    check_services()
    command = f"{BIN / 'nautobot-server'} watch_mailboxes --poll-seconds {poll_seconds}"
    if user:
        command += f" --user {shlex.quote(user)}"
    c.run(command, pty=sys.stdout.isatty())


def run_in_foreground(arguments):
    """Run a command to its end, stopped with us: when this task ends however it ends (SIGTERM included), so does it.

    Not `c.run`: a backgrounded `./run demo` ignores SIGINT (the shell's rule for background jobs), so the interrupt
    invoke would forward never reaches the child; the kernel's parent-death signal always does.
    """
    process = subprocess.Popen(arguments, preexec_fn=_die_with_parent)  # noqa: S603,PLW1509 - our own commands
    try:
        return process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def stopped_by_sigterm():
    """SIGTERM ends the block as Ctrl-C does (KeyboardInterrupt), so every `finally` stops what it started."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# The settings (development/nautobot_config.py) the demo turns on unless the environment says otherwise.
DEMO_FEATURES = ("NAUTOBOT_CM_METRICS", "NAUTOBOT_CM_PUSH")


@task(help={"serve": "serve the UI afterwards (default); --no-serve for scripts"})
def demo(c, serve=True, port=8080):
    """Demo: database, providers and circuits, sample mailbox, a worker and beat, the sync for real, the UI.

    The sync runs the way production runs it: queued by Nautobot and executed by the Celery worker, which
    keeps running beside the web server (with beat, which starts the demo's scheduled sync every 15
    minutes) until the server stops. Ctrl-C or SIGTERM stops the server, the worker and beat.
    """
    check_services()
    # Every feature on, for the processes started below: metrics (docs/metrics.md), push and upload (docs/push.md).
    for name in DEMO_FEATURES:
        os.environ.setdefault(name, "true")
    os.environ["CM_DEMO_PORT"] = str(port)  # for the addresses the summary prints
    ensure_database(os.getenv("NAUTOBOT_DB_NAME", "nautobot_cm"))
    print("==> Migrating the database (the first time takes a few minutes)", flush=True)
    nautobot_server(c, "migrate --no-input", hide="both")
    if serve:
        nautobot_server(c, "collectstatic --no-input", hide="out")
    with stopped_by_sigterm():
        try:
            with celery_services(beat=serve):
                if run_in_foreground([PYTHON, str(ROOT / "development" / "demo.py")]) != 0:
                    raise Exit("The demo's sync did not succeed; see the output above.", code=1)
                if serve:
                    print(
                        f"==> Serving http://127.0.0.1:{port}/  (Ctrl-C stops the server, the worker and beat)",
                        flush=True,
                    )
                    server = [
                        str(BIN / "nautobot-server"),
                        "runserver",
                        f"127.0.0.1:{port}",
                        "--insecure",
                        "--noreload",
                    ]
                    run_in_foreground(server)
        except KeyboardInterrupt:
            print("==> Stopped", flush=True)


# Debian package → the command it provides: Dovecot for the IMAP tests, Alertmanager for the silence tests,
# Chromium for the browser tests.
SYSTEM_PACKAGES = {
    "dovecot-imapd": "dovecot",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "chromium": "chromium",
    "chromium-driver": "chromedriver",
}


@task
def install_system_deps(c):
    """Debian packages the tests need (Dovecot, Alertmanager, Chromium and its driver); a no-op when present."""
    missing = [pkg for pkg, command in SYSTEM_PACKAGES.items() if not shutil.which(command)]
    if not missing:
        return
    sudo = "" if os.geteuid() == 0 else "sudo "
    c.run(
        f"{sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
        f"{sudo}apt-get install -y -qq --no-install-recommends {' '.join(missing)}"
    )


# The recorded seconds of each test module (`./run unittest --record-times`), to balance the streams.
TIMINGS = ROOT / "tests" / "timings.json"
# `./run tests` runs the whole suite in this many processes at once (one per core of a 2-core machine).
SUITE_STREAMS = 2
# A test module without a recorded time counts this much.
UNKNOWN_MODULE_SECONDS = 20.0


def test_modules() -> list[str]:
    """Every test module, as a dotted label: what `tests` finds (tests/older_app/test_installed.py skips itself
    unless the older app is installed, as in its own phase)."""
    return [
        ".".join(path.relative_to(ROOT).with_suffix("").parts) for path in sorted((ROOT / "tests").rglob("test_*.py"))
    ]


def balanced_streams(modules: list[str], count: int) -> list[list[str]]:
    """The modules dealt into `count` streams of about equal recorded time, the longest first."""
    recorded = json.loads(TIMINGS.read_text(encoding="utf-8")) if TIMINGS.exists() else {}
    streams: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(count)]
    for module in sorted(modules, key=lambda name: -recorded.get(name, UNKNOWN_MODULE_SECONDS)):
        index = min(range(count), key=lambda i: streams[i][0])
        total, members = streams[index]
        streams[index] = (total + recorded.get(module, UNKNOWN_MODULE_SECONDS), [*members, module])
    return [sorted(members) for _, members in streams if members]


def stream_environment(index: int, database: str) -> dict[str, str]:
    """Stream `index` on its own test database and its own Redis databases (cache and Celery broker)."""
    if index == 0:
        return {"NAUTOBOT_TEST_DB_NAME": database}
    return {
        "NAUTOBOT_TEST_DB_NAME": f"{database}_stream{index}",
        "NAUTOBOT_REDIS_CACHE_DB": str(6 + 2 * index),
        "NAUTOBOT_REDIS_BROKER_DB": str(7 + 2 * index),
    }


def run_streams(c, streams: list[list[str]], args: list[str]) -> None:
    """Run the streams at once, each its own `nautobot-server test` process; fail when any fails.

    Each stream has its own test database (a copy of the main one, made here) and its own Redis databases,
    so their jobs, Celery workers and caches never meet. Each stream's output is shown when it ends.
    """
    main = test_database_names()[0]
    for index in range(1, len(streams)):
        drop_database(f"{main}_stream{index}")
        clone_database(main, f"{main}_stream{index}")
    processes = []
    for index, labels in enumerate(streams):
        log = open(ROOT / f".stream{index}.log", "w+", encoding="utf-8")  # noqa: SIM115 - closed below
        command = [str(BIN / "nautobot-server"), "test", *args, *labels]
        env = {**os.environ, **stream_environment(index, main)}
        print(f"==> stream {index + 1} of {len(streams)}: {len(labels)} modules")
        processes.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env), log))
    failed = []
    for index, (process, log) in enumerate(processes):
        code = process.wait()
        log.seek(0)
        print(f"==> stream {index + 1} ended with {code}\n{log.read()}")
        log.close()
        if code:
            failed.append(index + 1)
    for index in range(1, len(streams)):
        drop_database(f"{main}_stream{index}")
    if failed:
        raise Exit(f"stream(s) {', '.join(map(str, failed))} failed", code=1)


@task(
    help={
        "keepdb": "keep the test database between runs (default; CI uses --no-keepdb)",
        "label": "tests to run",
        "streams": "the whole suite in this many processes at once (each on its own databases)",
        "record_times": "write each test module's seconds to tests/timings.json (one stream)",
    }
)
def unittest(c, keepdb=True, label="tests", failfast=False, verbose=False, streams=1, record_times=False):
    """The test suite (Django's runner, Nautobot's test settings) against PostgreSQL, Redis and Dovecot."""
    check_services()
    install_system_deps(c)
    args = ["--parallel", "1", "--no-input"]
    if keepdb:
        args.append("--keepdb")
    if failfast:
        args.append("--failfast")
    if verbose:
        args.extend(["-v", "2"])
    if record_times:
        record_test_times(c, args, label)
        return
    if label != "tests" or int(streams) <= 1:
        nautobot_server(c, f"test {shlex.join(args)} {label}")
        return
    # The main test database, migrated once (keepdb), before the streams copy it.
    nautobot_server(c, f"test {shlex.join([*args, '--keepdb'])} tests.test_config.ProviderValidationTestCase")
    run_streams(c, balanced_streams(test_modules(), int(streams)), [*args, "--keepdb"])


def record_test_times(c, args: list[str], label: str) -> None:
    """Run `label` in one process with development/test_timing.py; keep each module's seconds in TIMINGS."""
    per_class = ROOT / ".test-times.json"
    # development/ is no package of the app: the runner is found through the project's root.
    path = os.pathsep.join(filter(None, [str(ROOT), os.getenv("PYTHONPATH", "")]))
    nautobot_server(c, f"test {shlex.join(args)} {label}", env={"CM_TEST_TIMES": str(per_class), "PYTHONPATH": path})
    modules: dict[str, float] = json.loads(TIMINGS.read_text(encoding="utf-8")) if TIMINGS.exists() else {}
    measured: dict[str, float] = {}
    for name, seconds in json.loads(per_class.read_text(encoding="utf-8")).items():
        module = name.rsplit(".", 1)[0]
        measured[module] = round(measured.get(module, 0.0) + seconds, 1)
    modules.update(measured)
    TIMINGS.write_text(json.dumps(dict(sorted(modules.items())), indent=1) + "\n", encoding="utf-8")
    print(f"==> {len(measured)} modules timed into {TIMINGS.relative_to(ROOT)}")


# The older app, installed beside this one for the import's own test phase (tests/older_app).
OLDER_APP = "nautobot-circuit-maintenance>=3.1,<4"


@task(help={"keepdb": "keep the test databases between runs"})
def older_app_tests(c, keepdb=True):
    """The import from nautobot-circuit-maintenance with that app installed beside this one (tests/older_app).

    Its own settings (development/nautobot_config_older_app.py) and test database, so the main suite never
    sees the older app. The database starts as a copy of the main suite's (only the older app's migrations
    then run), else it is migrated from scratch.
    """
    check_services()
    if c.run(f"{BIN / 'python'} -c 'import nautobot_circuit_maintenance'", warn=True, hide=True).failed:
        # Without its dependencies: it pins google-auth-oauthlib<0.6, older than this app's OAuth (PKCE) needs;
        # its other dependencies are this app's too, and these tests never run its OAuth.
        c.run(f"{BIN / 'python'} -m pip install --quiet --no-deps '{OLDER_APP}'")
    main, older = test_database_names()
    clone_database(main, older)
    args = "--parallel 1 --no-input" + (" --keepdb" if keepdb else "")
    env = {"NAUTOBOT_CONFIG": str(ROOT / "development" / "nautobot_config_older_app.py")}
    env["NAUTOBOT_OLDER_APP_TEST_DB_NAME"] = older
    nautobot_server(c, f"test {args} tests.older_app.test_installed", env=env)


@task(
    help={
        "keepdb": "keep the test database between runs",
        "nautobot": f"another Nautobot release ({', '.join(SUPPORTED_RELEASES)}), in its own .venv-nautobot-<release>",
        "label": "tests to run",
    }
)
def tests(c, keepdb=True, nautobot="", label="tests"):
    """Lint, migrations check, then the whole suite; `--nautobot 3.0` runs them on that release instead.

    Another release gets its own virtualenv and its own test database (CM_RELEASE_TEST_DB_NAME, else
    NAUTOBOT_TEST_DB_NAME or the default suffixed with the release), so it never disturbs the main ones.
    """
    global BIN
    lint(c)
    check_services()
    if nautobot:
        BIN = release_venv(c, nautobot)
        base = os.getenv("NAUTOBOT_TEST_DB_NAME", "test_nautobot_cm")
        os.environ["NAUTOBOT_TEST_DB_NAME"] = os.getenv(
            "CM_RELEASE_TEST_DB_NAME", f"{base}_nautobot_{nautobot.replace('.', '_')}"
        )
        c.run(f"{BIN / 'python'} -c 'import nautobot; print(\"==> Nautobot\", nautobot.__version__)'")
    check_migrations(c)
    if nautobot:
        unittest(c, keepdb=keepdb, label=label, streams=SUITE_STREAMS)
        print("All checks passed.")
        return
    # Without keepdb the test databases are dropped first and last; in between the main suite keeps its
    # database so the older-app phase (tests/older_app) starts from a copy of it.
    databases = test_database_names()
    if not keepdb:
        for name in databases:
            drop_database(name)
    unittest(c, keepdb=True, label=label, streams=SUITE_STREAMS)
    if label == "tests":
        older_app_tests(c, keepdb=True)
    if not keepdb:
        for name in databases:
            drop_database(name)
    print("All checks passed.")


@task(
    help={
        "count": "mails in the largest backlog (a 1,000-mail one is measured too)",
        "quick": "skip the large store, the Gmail and the latency measurements",
        "only": "comma-separated parts to run: first-sync, steady, gmail, latency (default: all)",
        "store_maintenances": "maintenances in the large store (10 notices each by default)",
        "store_notices": "notices per maintenance in the large store",
        "rebuild_store": "seed the large store again even when a complete one is kept",
        "drop_store": "drop the large store's database at the end (it is kept between runs otherwise)",
        "sql": "print the most frequent SQL statements of the largest first sync",
        "profile": "profile the largest first sync once more: where its time goes, stage by stage",
    }
)
def benchmark(
    c,
    count=5000,
    quick=False,
    only="",
    store_maintenances=100_000,
    store_notices=10,
    rebuild_store=False,
    drop_store=False,
    sql=False,
    profile=False,
):
    """The real sync job against the parser alone, steady state, pages, latency, memory: a table and JSON (demo db)."""
    check_services()
    flags = [f"--count {count}", f"--store-maintenances {store_maintenances}", f"--store-notices {store_notices}"]
    flags += [f"--only {only}"] if only else []
    switches = (
        ("--quick", quick),
        ("--rebuild-store", rebuild_store),
        ("--drop-store", drop_store),
        ("--sql", sql),
        ("--profile", profile),
    )
    flags += [flag for flag, on in switches if on]
    c.run(f"{PYTHON} {ROOT / 'development' / 'benchmark.py'} {' '.join(flags)}")


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
    """A long fuzz campaign: hostile mail through the real sync job (tests/intake/test_fuzz.py).

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
    nautobot_server(c, f"test {args} tests.intake.test_fuzz", env=env)

"""Nautobot settings for development, the demo and the tests.

Everything comes from the environment, with defaults that work on a machine with PostgreSQL
and Redis on 127.0.0.1 (trust auth).
"""

import os
import sys
from pathlib import Path

from nautobot import __version__ as _nautobot_version
from nautobot.core.settings import *  # noqa: F403
from nautobot.core.settings_funcs import is_truthy

DEV_DIR = Path(__file__).resolve().parent
TESTING = len(sys.argv) > 1 and sys.argv[1] == "test"

SECRET_KEY = os.getenv("NAUTOBOT_SECRET_KEY", "dev-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz")
ALLOWED_HOSTS = os.getenv("NAUTOBOT_ALLOWED_HOSTS", "*").split(" ")
DEBUG = is_truthy(os.getenv("NAUTOBOT_DEBUG", "false"))

DATABASES = {
    "default": {
        "NAME": os.getenv("NAUTOBOT_DB_NAME", "nautobot_cm"),
        "USER": os.getenv("NAUTOBOT_DB_USER", "postgres"),
        "PASSWORD": os.getenv("NAUTOBOT_DB_PASSWORD", ""),
        "HOST": os.getenv("NAUTOBOT_DB_HOST", "127.0.0.1"),
        "PORT": os.getenv("NAUTOBOT_DB_PORT", "5432"),
        "CONN_MAX_AGE": int(os.getenv("NAUTOBOT_DB_TIMEOUT", "300")),
        "ENGINE": "django.db.backends.postgresql",
        "TEST": {"NAME": os.getenv("NAUTOBOT_TEST_DB_NAME", "test_nautobot_cm")},
    }
}
DATABASES["job_logs"] = DATABASES["default"].copy()
DATABASES["job_logs"]["TEST"] = {"MIRROR": "default"}

_REDIS = os.getenv("NAUTOBOT_REDIS_URL", "redis://127.0.0.1:6379")
CACHES["default"]["LOCATION"] = f"{_REDIS}/{os.getenv('NAUTOBOT_REDIS_CACHE_DB', '1')}"  # noqa: F405
# Keyed by the Nautobot release: the suite on another release (`./run tests --nautobot 3.0`, its own virtualenv
# and Django) shares this Redis database, and must not read objects the other release pickled into the cache.
CACHES["default"]["KEY_PREFIX"] = f"nautobot-{_nautobot_version}"  # noqa: F405
CELERY_BROKER_URL = f"{_REDIS}/{os.getenv('NAUTOBOT_REDIS_BROKER_DB', '0')}"

MEDIA_ROOT = os.getenv("NAUTOBOT_MEDIA_ROOT", str(DEV_DIR / ".state" / "media"))
STATIC_ROOT = os.getenv("NAUTOBOT_STATIC_ROOT", str(DEV_DIR / ".state" / "static"))
JOBS_ROOT = os.getenv("NAUTOBOT_JOBS_ROOT", str(DEV_DIR / ".state" / "jobs"))
GIT_ROOT = os.getenv("NAUTOBOT_GIT_ROOT", str(DEV_DIR / ".state" / "git"))

# Nautobot's own times (created, last updated, job results) in the app's shape with the zone, `2026-12-06 04:00 CET`,
# in the reader's time zone like the app's (display.DATE_TIME_LETTERS; docs/install.md, "Dates and times").
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"

INSTALLED_APPS_EXTRA = []
PLUGINS = ["nautobot_ssot", "nautobot_ssot_circuit_maintenance"]
# Prometheus metrics: Nautobot's /metrics/ and nautobot-capacity-metrics' app-metrics endpoint.
METRICS_ENABLED = METRICS_ENABLED or TESTING or is_truthy(os.getenv("NAUTOBOT_CM_METRICS", "false"))  # noqa: F405
if METRICS_ENABLED:
    PLUGINS.append("nautobot_capacity_metrics")
# The metrics name circuits and which are under maintenance: no anonymous scrapes (docs/metrics.md).
# Nautobot's /metrics/ honours METRICS_AUTHENTICATED; capacity-metrics' app-metrics has no setting of
# its own, so a middleware of this app protects it.
METRICS_AUTHENTICATED = is_truthy(os.getenv("NAUTOBOT_METRICS_AUTHENTICATED", "true"))
if METRICS_AUTHENTICATED:
    MIDDLEWARE = [*MIDDLEWARE, "nautobot_ssot_circuit_maintenance.events.metrics_auth.MetricsAuthenticationMiddleware"]  # noqa: F405

# The demo's mailbox trusts its mail server's verdicts (development/demo_mail.py stamps them), checks no DKIM itself
# (no DNS here), and holds what an unauthenticated notice would take away for a person (docs/authentication.md).
DEMO_MAILBOX_AUTHENTICATION = {"trusted_authserv_ids": ["mx.demo.example"], "unauthenticated": "confirm", "dkim": False}

# The demo points this at its sample mailbox; operators set their own in their nautobot_config.py.
_DEMO_MAILBOX = os.getenv("NAUTOBOT_CM_DEMO_MAILBOX", str(DEV_DIR / ".state" / "demo-mailbox"))

PLUGINS_CONFIG = {
    "nautobot_ssot": {"hide_example_jobs": True},
    "nautobot_ssot_circuit_maintenance": {
        "raw_notification_initial_days_since": int(os.getenv("NAUTOBOT_CM_INITIAL_DAYS", "7")),
        "raw_notification_size": 16384,
        "notification_sources": []
        if TESTING
        else [
            {
                "name": "Demo mailbox",
                "url": f"file://{_DEMO_MAILBOX}",
                "attach_all_providers": True,
                "authentication": DEMO_MAILBOX_AUTHENTICATION,
            }
        ],
        "metrics": {"enable": is_truthy(os.getenv("NAUTOBOT_CM_METRICS", "false"))},
        # `./run demo` turns push and upload on (docs/push.md), and metrics (docs/metrics.md).
        "push": {"enable": is_truthy(os.getenv("NAUTOBOT_CM_PUSH", "false"))},
    },
}

if TESTING:
    # Nautobot's own test settings: Celery eager, fast hashing.
    CELERY_TASK_ALWAYS_EAGER = True
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    LOGGING = {"version": 1, "disable_existing_loggers": False, "handlers": {}, "loggers": {}}

# `CM_TEST_TIMES=path ./run unittest`: where the suite's time goes, per test class (development/test_timing.py).
if os.getenv("CM_TEST_TIMES"):
    TEST_RUNNER = "development.test_timing.TimingRunner"

"""Settings for the import's second test phase: the normal settings plus the older app, nautobot-circuit-maintenance.

Only `tests.older_app.test_installed` runs with these (`./run tests` runs it after the main suite, on its own test
database `<test database>_older_app`); every other test keeps the normal settings.
"""

import os
import runpy
from pathlib import Path

globals().update(
    {
        key: value
        for key, value in runpy.run_path(str(Path(__file__).with_name("nautobot_config.py"))).items()
        if not key.startswith("__")
    }
)

PLUGINS = [*PLUGINS, "nautobot_circuit_maintenance"]  # noqa: F821 - from nautobot_config.py
PLUGINS_CONFIG = {
    **PLUGINS_CONFIG,  # noqa: F821 - from nautobot_config.py
    # The older app's own settings; its notification sources are set by the tests (a loopback Dovecot).
    "nautobot_circuit_maintenance": {"raw_notification_size": 16384, "notification_sources": []},
}
DATABASES["default"]["TEST"] = {  # noqa: F821 - from nautobot_config.py
    "NAME": os.getenv("NAUTOBOT_OLDER_APP_TEST_DB_NAME") or f"{DATABASES['default']['TEST']['NAME']}_older_app"  # noqa: F821
}

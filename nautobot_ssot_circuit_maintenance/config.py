"""The app's settings: defaults, validation against `config_schema.json`, and typed access."""

from __future__ import annotations

import copy
import json
import logging
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import jsonschema

from nautobot_ssot_circuit_maintenance.redaction import Scrubber

APP_NAME = "nautobot_ssot_circuit_maintenance"
# The namespace of the app's URL names: reverse(f"{URL_NAMESPACE}:circuitmaintenance_list").
URL_NAMESPACE = f"plugins:{APP_NAME}"
# The older app's key: read when this app's own key is absent, so its users can switch first and move the key later.
LEGACY_APP_NAME = "nautobot_circuit_maintenance"
# Settings of the older app that mean nothing here (its dashboard and overlap job).
LEGACY_ONLY_KEYS = ("dashboard_n_days", "overlap_job_exclude_no_impact")

logger = logging.getLogger(__name__)

DEFAULT_SETTINGS: dict[str, Any] = {
    "raw_notification_initial_days_since": 7,
    "raw_notification_size": 8192,
    "notification_sources": [],
    "metrics": {"enable": False},
    # Bounds on what one message may cost; see mail/bounds.py and docs/install.md.
    "message_limits": {},
    # circuit-maintenance-parser's own charset detection answered by cchardet (see compat.py).
    "fast_charset_detection": True,
    # Which circuits keep a location or a device connected, and which locations are not analysed (flags/store.py).
    "site_isolation": {"circuit_types": [], "circuit_statuses": ["Active"], "skip_locations": []},
    # A maintenance whose next window starts within this many hours reads "starting soon" (live state).
    "starting_soon_hours": 24,
    # How many days ahead the overview page looks.
    "dashboard_n_days": 30,
    # The built-in "pushed" source (push endpoint, upload form); see docs/push.md.
    "push": {},
    # Alertmanager silences kept for what maintenances affect (actions/silences.py, docs/actions.md); off without a url.
    "alertmanager": {},
    # Notices to the tenants a maintenance affects (customers/, docs/customers.md); drafts only with `auto_draft`.
    "customer_notices": {},
    # Who the "Send maintenance digest" job e-mails when its run names nobody (actions/digest.py, docs/actions.md).
    "digest": {},
}

# The built-in source holding pushed and uploaded messages (intake/pushed.py); no configured source may take its name.
PUSHED_SOURCE_NAME = "pushed"
PUSH_SCHEME = "push"
PUSHED_SOURCE_URL = f"{PUSH_SCHEME}://"


@dataclass(frozen=True)
class SourceSettings:
    """One entry of `notification_sources`, already validated."""

    name: str
    url: str
    account: str = ""
    secret: str = field(default="", repr=False)
    source_header: str = "From"
    folder: str = "INBOX"
    tls: bool = True
    ca_file: str | None = None
    attach_all_providers: bool = False
    # Colleagues whose forwards of notices are read as the notices (addresses and `@domain`s, lower-case).
    forwarders: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, repr=False)


# Keys whose values must never be echoed back in an error message.
SECRET_KEYS = {"secret", "credentials_file", "client_secret", "certificate_file", "token", "password"}


class DeprecatedSettingsKey(FutureWarning):
    """The settings were found under the older app's key (a FutureWarning, so operators see it by default)."""


class ConfigurationError(ValueError):
    """The app's settings are wrong; the message names the source and the key."""


@cache
def _schema() -> dict[str, Any]:
    return json.loads((Path(__file__).parent / "config_schema.json").read_text())


def _describe(error: jsonschema.ValidationError, config: dict[str, Any]) -> str:
    path = list(error.absolute_path)
    where = "PLUGINS_CONFIG['nautobot_ssot_circuit_maintenance']"
    if len(path) >= 2 and path[0] == "notification_sources":
        source = config["notification_sources"][path[1]]
        name = source.get("name") if isinstance(source, dict) else None
        where += f", notification source {name!r}" if name else f", notification source #{path[1] + 1}"
        path = path[2:]
    key = ".".join(str(part) for part in path)
    if error.validator == "anyOf" and all(sub.validator == "required" for sub in error.context):
        choices = [key for sub in error.context for key in sub.validator_value]
        return f"{where}: needs one of the keys " + ", ".join(repr(key) for key in choices)
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        return f"{where}: missing key {missing[0]!r}"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"{where}: unknown key {extra[0]!r}" + (f" under {key!r}" if key else "")
    if path and str(path[-1]) in SECRET_KEYS:
        return f"{where}: key {key!r} is invalid ({error.validator} check failed)"
    if len(path) == 2 and path[0] == "forwarders":
        return (
            f"{where}: key 'forwarders': {error.instance!r} is neither an address (noc@example.net) nor a "
            "domain (@example.net)"
        )
    if path == ["alertmanager"] and error.validator == "not":
        return f"{where}: key 'alertmanager' takes 'token' or 'secrets_group', not both"
    if path == ["customer_notices", "smtp"] and error.validator == "not":
        return (
            f"{where}: key 'customer_notices.smtp' takes 'password' or 'secrets_group', not both, "
            "and 'starttls' or 'ssl', not both"
        )
    if path == ["alertmanager", "url"]:
        return f"{where}: key 'alertmanager.url' must look like http(s)://host[:port][/path]"
    if path and str(path[-1]) == "url":
        # Never echo a URL: it may carry credentials (imap://user:password@host).
        return (
            f"{where}: key 'url' must look like imap://host[:port], imaps://host[:port], file:///path, "
            "https://accounts.google.com/o/oauth2/auth or https://graph.microsoft.com/; the account and its secret "
            "go in 'account' and 'secret', not in the URL"
        )
    return f"{where}: key {key!r}: {error.message}" if key else f"{where}: {error.message}"


def _config_secrets(config: Any) -> list[str]:
    """Every secret value of the configuration, so that no error message repeats one."""
    sources = config.get("notification_sources") if isinstance(config, dict) else None
    found = []
    for source in sources if isinstance(sources, list) else []:
        if isinstance(source, dict):
            found.extend(str(source[key]) for key in SECRET_KEYS if source.get(key) not in (None, ""))
    smtp = ((config.get("customer_notices") or {}) if isinstance(config, dict) else {}).get("smtp")
    if isinstance(smtp, dict) and smtp.get("password") not in (None, ""):
        found.append(str(smtp["password"]))
    alertmanager = config.get("alertmanager") if isinstance(config, dict) else None
    if isinstance(alertmanager, dict) and alertmanager.get("token") not in (None, ""):
        found.append(str(alertmanager["token"]))
    return found


def validate_config(config: dict[str, Any]) -> None:
    """Raise ConfigurationError with one readable message for the first problem found."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(list(e.absolute_path)), list(e.absolute_path)))
    if errors:
        # The deepest error under an allOf/if-then is the one that names the key.
        error = errors[0]
        while error.context and not (
            error.validator == "anyOf" and all(sub.validator == "required" for sub in error.context)
        ):
            error = error.context[0]
        raise ConfigurationError(Scrubber(_config_secrets(config))(_describe(error, config)))
    template_problem = matcher_template_problem((config.get("alertmanager") or {}).get("matchers", []))
    if template_problem:
        raise ConfigurationError(
            f"PLUGINS_CONFIG['nautobot_ssot_circuit_maintenance']: key 'alertmanager.matchers': {template_problem}"
        )
    names = [source["name"] for source in config.get("notification_sources", [])]
    if PUSHED_SOURCE_NAME in names:
        raise ConfigurationError(
            f"PLUGINS_CONFIG['nautobot_ssot_circuit_maintenance']: notification source name {PUSHED_SOURCE_NAME!r} "
            "is the built-in source of pushed messages; choose another name"
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigurationError(
            f"PLUGINS_CONFIG['nautobot_ssot_circuit_maintenance']: notification source name {duplicates[0]!r} "
            "is used more than once"
        )


# What an Alertmanager matcher template may be rendered over, one object at a time (actions/silences.py).
MATCHER_KINDS = ("device", "interface", "circuit", "location")


def matcher_kind(template: str) -> str | None:
    """Which of `MATCHER_KINDS` the matcher template names (it is rendered once per such object), None for none.

    Raises ValueError for a template that is not Jinja2 or names more than one kind.
    """
    environment = jinja2.Environment(autoescape=False)  # noqa: S701 - parsed only, never rendered here
    try:
        names = jinja2.meta.find_undeclared_variables(environment.parse(template))
    except jinja2.TemplateSyntaxError as error:
        raise ValueError(f"template {template!r} is not valid Jinja2: {error.message}") from None
    kinds = [kind for kind in MATCHER_KINDS if kind in names]
    if len(kinds) > 1:
        raise ValueError(f"template {template!r} names {' and '.join(kinds)}: a matcher is rendered over one kind")
    return kinds[0] if kinds else None


def matcher_template_problem(matchers: Any) -> str | None:
    """What is wrong with the configured matcher templates (after the schema check), None when nothing."""
    for matcher in matchers if isinstance(matchers, list) else []:
        try:
            matcher_kind(matcher["value"])
        except ValueError as error:
            return str(error)
    return None


def adopt_legacy_settings(user_config: dict[str, Any], plugins_config: dict[str, Any]) -> bool:
    """Fill this app's (absent or empty) settings from `PLUGINS_CONFIG["nautobot_circuit_maintenance"]`.

    Nautobot creates an empty entry for an app without one before validating it, so empty means absent.
    Returns whether the older key was used; warns naming the key to move the settings to.
    """
    legacy = plugins_config.get(LEGACY_APP_NAME)
    if user_config or not isinstance(legacy, dict) or not legacy:
        return False
    user_config.update({key: copy.deepcopy(value) for key, value in legacy.items() if key not in LEGACY_ONLY_KEYS})
    message = (
        f"{APP_NAME} read its settings from PLUGINS_CONFIG['{LEGACY_APP_NAME}'], the older app's key, because "
        f"PLUGINS_CONFIG['{APP_NAME}'] is absent. That key is deprecated: move the settings to "
        f"PLUGINS_CONFIG['{APP_NAME}']."
    )
    warnings.warn(message, DeprecatedSettingsKey, stacklevel=2)
    logger.warning(message)
    return True


def app_settings() -> dict[str, Any]:
    """The app's settings: PLUGINS_CONFIG over the defaults."""
    from django.conf import settings

    merged = dict(DEFAULT_SETTINGS)
    merged.update(settings.PLUGINS_CONFIG.get(APP_NAME, {}))
    return merged


def _settings_of(entry: dict[str, Any]) -> SourceSettings:
    known = set(SourceSettings.__dataclass_fields__) - {"extra"}
    values = {key: value for key, value in entry.items() if key in known}
    extra = {key: value for key, value in entry.items() if key not in known}
    if "forwarders" in values:
        values["forwarders"] = tuple(sorted({str(entry).strip().lower() for entry in values["forwarders"]}))
    return SourceSettings(**values, extra=extra)


def pushed_source_settings() -> SourceSettings:
    """The built-in source of pushed messages: every provider attached, the sender header and checks of `push`."""
    push = app_settings().get("push") or {}
    return _settings_of(
        {
            **{key: value for key, value in push.items() if key != "enable"},
            "name": PUSHED_SOURCE_NAME,
            "url": PUSHED_SOURCE_URL,
            "attach_all_providers": True,
        }
    )


# What the push endpoint, the upload page and its button say while push is off: one wording everywhere.
PUSH_DISABLED = (
    'Push and upload are not enabled: set "push": {"enable": True} in '
    'PLUGINS_CONFIG["nautobot_ssot_circuit_maintenance"] and restart Nautobot (docs/push.md)'
)


def push_enabled() -> bool:
    """Whether the built-in pushed source is on (`push.enable`)."""
    return bool((app_settings().get("push") or {}).get("enable", False))


def source_settings() -> list[SourceSettings]:
    """The configured notification sources, in configuration order, then the built-in pushed source (if enabled)."""
    sources = [_settings_of(entry) for entry in app_settings()["notification_sources"]]
    if push_enabled():
        sources.append(pushed_source_settings())
    return sources

"""Nautobot app: provider circuit-maintenance e-mail becomes Circuit Maintenance records through an SSoT sync."""

from importlib import metadata

from nautobot.apps import NautobotAppConfig
from nautobot.extras.plugins.exceptions import PluginImproperlyConfigured

from nautobot_ssot_circuit_maintenance.compat.parser import quiet_parser_logging, use_fast_charset_detection
from nautobot_ssot_circuit_maintenance.config import (
    APP_NAME,
    DEFAULT_SETTINGS,
    URL_NAMESPACE,
    ConfigurationError,
    adopt_legacy_settings,
    app_settings,
    validate_config,
)
from nautobot_ssot_circuit_maintenance.redaction import install_feed_token_log_filter, quiet_oauth_library_logs

__version__ = metadata.version("nautobot-ssot-circuit-maintenance")


class CircuitMaintenanceConfig(NautobotAppConfig):
    """The app's configuration: settings, defaults, supported Nautobot versions and start-up hooks."""

    name = APP_NAME
    verbose_name = "Circuit Maintenance (SSoT)"
    version = __version__
    author = "nautobot-ssot-circuit-maintenance contributors"
    description = "Provider circuit-maintenance e-mail becomes Circuit Maintenance records through an SSoT sync."
    base_url = "circuit-maintenance"
    required_settings = []
    default_settings = DEFAULT_SETTINGS
    min_version = "3.0.0"
    max_version = "3.2.99"
    home_view_name = f"{URL_NAMESPACE}:circuitmaintenance_list"
    # The user documentation, shipped in the package and shown in Nautobot (userdocs/).
    docs_view_name = f"{URL_NAMESPACE}:docs"
    searchable_models = ["circuitmaintenance"]
    # Types with fields Nautobot cannot generate (live state, who acknowledged, raw and parsed notifications).
    graphql_types = "graphql.types.graphql_types"
    # Nautobot looks for the metrics in `<app>.metrics` unless told: they live with the live-state events.
    metrics = "events.metrics.metrics"

    @classmethod
    def validate(cls, user_config, nautobot_version):
        """Take absent settings from the older app's entry, then refuse what `validate_config` rejects."""
        from django.conf import settings

        adopt_legacy_settings(user_config, settings.PLUGINS_CONFIG)
        super().validate(user_config, nautobot_version)
        try:
            validate_config(user_config)
        except ConfigurationError as error:
            raise PluginImproperlyConfigured(str(error)) from None

    def ready(self):
        """Connect the signals and metrics, quiet the parser and OAuth loggers, mask feed tokens in request logs."""
        super().ready()
        # Both import the models, which exist only once the apps are loaded.
        from nautobot_ssot_circuit_maintenance import signals  # noqa: F401 - connects the handlers
        from nautobot_ssot_circuit_maintenance.events.metrics import register_capacity_metrics

        register_capacity_metrics()
        # The parser also runs in this process (e.g. reading a message again); workers set the same.
        quiet_parser_logging()
        use_fast_charset_detection(bool(app_settings().get("fast_charset_detection", True)))
        quiet_oauth_library_logs()
        # Request paths in Django's (and gunicorn's) log lines may hold a calendar feed token.
        install_feed_token_log_filter()


config = CircuitMaintenanceConfig

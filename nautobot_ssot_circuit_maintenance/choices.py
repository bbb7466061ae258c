"""Choice sets shared by models, filters, the fold and the API."""

from nautobot.apps.choices import ChoiceSet


class MaintenanceStatusChoices(ChoiceSet):
    TENTATIVE = "TENTATIVE"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    IN_PROCESS = "IN-PROCESS"
    COMPLETED = "COMPLETED"
    RE_SCHEDULED = "RE-SCHEDULED"
    UNKNOWN = "UNKNOWN"

    CHOICES = (
        (TENTATIVE, "Tentative"),
        (CONFIRMED, "Confirmed"),
        (CANCELLED, "Cancelled"),
        (IN_PROCESS, "In process"),
        (COMPLETED, "Completed"),
        (RE_SCHEDULED, "Re-scheduled"),
        (UNKNOWN, "Unknown"),
    )

    # Statuses during which the circuits may be down (used by metrics and filters).
    ACTIVE = (IN_PROCESS,)
    # Statuses that announce work still to come.
    UPCOMING = (TENTATIVE, CONFIRMED, RE_SCHEDULED)


class ImpactChoices(ChoiceSet):
    NO_IMPACT = "NO-IMPACT"
    REDUCED_REDUNDANCY = "REDUCED-REDUNDANCY"
    DEGRADED = "DEGRADED"
    OUTAGE = "OUTAGE"

    CHOICES = (
        (NO_IMPACT, "No impact"),
        (REDUCED_REDUNDANCY, "Reduced redundancy"),
        (DEGRADED, "Degraded"),
        (OUTAGE, "Outage"),
    )

    # Badge colours (Bootstrap), from harmless to down.
    CSS_CLASSES = {
        NO_IMPACT: "success",
        REDUCED_REDUNDANCY: "info",
        DEGRADED: "warning",
        OUTAGE: "danger",
    }


class NoteLevelChoices(ChoiceSet):
    INFO = "INFO"
    WARNING = "WARNING"

    CHOICES = ((INFO, "Info"), (WARNING, "Warning"))


class OutcomeChoices(ChoiceSet):
    """What became of one fetched message."""

    PARSED = "parsed"
    IGNORED = "ignored"
    PARSING_FAILED = "parsing-failed"
    UNKNOWN_PROVIDER = "unknown-provider"
    OUT_OF_SEQUENCE = "out-of-sequence"
    UNKNOWN_CIDS = "unknown-cids"
    TOO_LARGE = "too-large"
    PARSE_TIMEOUT = "parse-timeout"

    CHOICES = (
        (PARSED, "Parsed"),
        (IGNORED, "Ignored (no maintenance)"),
        (PARSING_FAILED, "Parsing failed"),
        (UNKNOWN_PROVIDER, "Unknown provider"),
        (OUT_OF_SEQUENCE, "Out of sequence"),
        (UNKNOWN_CIDS, "Unknown circuit IDs"),
        (TOO_LARGE, "Too large (over a bound)"),
        (PARSE_TIMEOUT, "Parse timed out"),
    )

    # Badge colours (Bootstrap): green done, grey nothing to do, yellow a person can fix it, red it failed.
    CSS_CLASSES = {
        PARSED: "success",
        IGNORED: "secondary",
        OUT_OF_SEQUENCE: "info",
        UNKNOWN_PROVIDER: "warning",
        UNKNOWN_CIDS: "warning",
        PARSING_FAILED: "danger",
        TOO_LARGE: "danger",
        PARSE_TIMEOUT: "danger",
    }


class FlagKindChoices(ChoiceSet):
    """What overlapping maintenances do to a location or a device (see isolation.py)."""

    ISOLATION = "isolation"
    LOST_REDUNDANCY = "lost-redundancy"

    CHOICES = ((ISOLATION, "Isolation"), (LOST_REDUNDANCY, "Lost redundancy"))


class MessageKeptChoices(ChoiceSet):
    """How much of a message is stored (`RawNotification.message`)."""

    WHOLE = "whole"
    HEAD = "head"
    TRUNCATED = "truncated"

    CHOICES = (
        (WHOLE, "Whole message"),
        (HEAD, "Head only (over max_message_mb)"),
        (TRUNCATED, "Truncated by an older version"),
    )

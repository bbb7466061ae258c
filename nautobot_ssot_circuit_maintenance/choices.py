"""Choice sets shared by models, filters, the fold and the API."""

from nautobot.apps.choices import ChoiceSet


class MaintenanceStatusChoices(ChoiceSet):
    """A maintenance's status as the provider states it (BCOP), with its badge colour."""

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

    CSS_CLASSES = {
        TENTATIVE: "info",
        CONFIRMED: "warning",
        CANCELLED: "secondary",
        IN_PROCESS: "danger",
        COMPLETED: "success",
        RE_SCHEDULED: "info",
        UNKNOWN: "secondary",
    }

    # Statuses during which the circuits may be down (used by metrics and filters).
    ACTIVE = (IN_PROCESS,)
    # Statuses that announce work still to come.
    UPCOMING = (TENTATIVE, CONFIRMED, RE_SCHEDULED)


class ImpactChoices(ChoiceSet):
    """How a maintenance affects one circuit, from no impact to outage, with its badge colour."""

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
    """How much a maintenance note matters: information or a warning."""

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
    # A notice that had to prove its sender (intake/authenticate.py) and could not: it changes nothing.
    UNAUTHENTICATED = "unauthenticated"
    # An unauthenticated notice that would cancel, complete, move or take circuits off a maintenance, under the
    # source's `confirm` policy: it changes nothing until a person confirms it in triage.
    AWAITING_CONFIRMATION = "awaiting-confirmation"
    # Its sequence number jumped implausibly above the maintenance's (intake/fold.py): it counts, ranked as the highest
    # believable one, and a person is asked to look.
    SEQUENCE_JUMP = "sequence-jump"

    CHOICES = (
        (PARSED, "Parsed"),
        (IGNORED, "Ignored (no maintenance)"),
        (PARSING_FAILED, "Parsing failed"),
        (UNKNOWN_PROVIDER, "Unknown provider"),
        (OUT_OF_SEQUENCE, "Out of sequence"),
        (UNKNOWN_CIDS, "Unknown circuit IDs"),
        (TOO_LARGE, "Too large (over a bound)"),
        (PARSE_TIMEOUT, "Parse timed out"),
        (UNAUTHENTICATED, "Sender not authenticated"),
        (AWAITING_CONFIRMATION, "Awaiting confirmation"),
        (SEQUENCE_JUMP, "Sequence jumped"),
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
        AWAITING_CONFIRMATION: "warning",
        SEQUENCE_JUMP: "warning",
    }


class FlagKindChoices(ChoiceSet):
    """What overlapping maintenances do to a location or a device (see flags/isolation.py)."""

    ISOLATION = "isolation"
    LOST_REDUNDANCY = "lost-redundancy"

    CHOICES = ((ISOLATION, "Isolation"), (LOST_REDUNDANCY, "Lost redundancy"))
    CSS_CLASSES = {ISOLATION: "danger", LOST_REDUNDANCY: "warning"}


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


class LiveStateChoices(ChoiceSet):
    """Where a maintenance stands now, computed from its windows and the clock (beside the provider's status).

    `CircuitMaintenance.current_live_state` computes it; its `live_state` field records it at each transition.
    """

    UPCOMING = "upcoming"
    STARTING_SOON = "starting-soon"
    IN_PROGRESS = "in-progress"
    OVERRUNNING = "overrunning"
    ENDED = "ended"
    CANCELLED = "cancelled"

    CHOICES = (
        (UPCOMING, "Upcoming"),
        (STARTING_SOON, "Starting soon"),
        (IN_PROGRESS, "In progress"),
        (OVERRUNNING, "Overrunning"),
        (ENDED, "Ended"),
        (CANCELLED, "Cancelled"),
    )

    # Bootstrap colours of the badges, the calendar and the overview.
    CSS_CLASSES = {
        UPCOMING: "info",
        STARTING_SOON: "warning",
        IN_PROGRESS: "danger",
        OVERRUNNING: "danger",
        ENDED: "success",
        CANCELLED: "secondary",
    }
    # Nautobot's theme has five distinct colours for six states: overrunning is red with dark stripes
    # (an inline style, so that it works in tables too); cancelled is also struck through where shown.
    CSS_STYLES = {
        OVERRUNNING: (
            "background-image: repeating-linear-gradient(135deg, rgba(0,0,0,.45) 0 .35em, transparent .35em .7em)"
        ),
    }

    # The states whose start is published as an event of its own (see events/live.py), in the order they come.
    # Every recorded change of the state, upcoming included, is also a change-logged save of the maintenance.
    TRANSITIONS = (STARTING_SOON, IN_PROGRESS, OVERRUNNING, ENDED, CANCELLED)


class SourcePolicyChoices(ChoiceSet):
    """What a source does with a notice whose sender it could not authenticate (`authentication.unauthenticated`)."""

    APPLY = "apply"
    CONFIRM = "confirm"
    REFUSE = "refuse"

    CHOICES = (
        (APPLY, "Apply it"),
        (CONFIRM, "Apply it, but a cancellation, completion, window move or circuit removal waits for a person"),
        (REFUSE, "Refuse it (it changes nothing)"),
    )


class NoticeStateChoices(ChoiceSet):
    """Where a customer notice stands: draft → (awaiting approval) → approved → sending → sent; or discarded."""

    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting-approval"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    DISCARDED = "discarded"

    CHOICES = (
        (DRAFT, "Draft"),
        (AWAITING_APPROVAL, "Awaiting approval"),
        (APPROVED, "Approved"),
        (SENDING, "Sending"),
        (SENT, "Sent"),
        (DISCARDED, "Discarded"),
    )
    CSS_CLASSES = {
        DRAFT: "secondary",
        AWAITING_APPROVAL: "warning",
        APPROVED: "info",
        SENDING: "primary",
        SENT: "success",
        DISCARDED: "dark",
    }
    # A notice in these states may still be rewritten when its maintenances change (nothing has left yet).
    REWRITABLE = (DRAFT, AWAITING_APPROVAL, APPROVED)


class NoticeKindChoices(ChoiceSet):
    """What a customer notice announces."""

    NEW = "new"
    UPDATED = "updated"
    CANCELLED = "cancelled"

    CHOICES = ((NEW, "New maintenance"), (UPDATED, "Changed (rescheduled)"), (CANCELLED, "Cancelled"))
    CSS_CLASSES = {NEW: "info", UPDATED: "warning", CANCELLED: "secondary"}


class RecipientStateChoices(ChoiceSet):
    """One recipient of a customer notice: pending → sending → sent or refused; unknown when a send was cut off."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    REFUSED = "refused"
    # Claimed by a worker that never reported back (killed mid-send): it may or may not have left; only a person's
    # resend sends it again, so nothing ever leaves twice by itself.
    UNKNOWN = "unknown"

    CHOICES = (
        (PENDING, "Pending"),
        (SENDING, "Sending"),
        (SENT, "Sent"),
        (REFUSED, "Refused"),
        (UNKNOWN, "Unknown (send interrupted)"),
    )
    CSS_CLASSES = {PENDING: "secondary", SENDING: "primary", SENT: "success", REFUSED: "danger", UNKNOWN: "warning"}


class ActionKindChoices(ChoiceSet):
    """What an action rule does: send a message (through apprise) or run a Nautobot Job with the maintenance."""

    NOTIFY = "notify"
    JOB = "job"

    CHOICES = (
        (NOTIFY, "Send a message"),
        (JOB, "Run a job"),
    )


class ActionOccasionChoices(ChoiceSet):
    """When an action rule fires for a maintenance: at a live-state transition, or at a moment around its window."""

    TRANSITION = "transition"
    BEFORE_START = "before-start"
    AFTER_END = "after-end"

    CHOICES = (
        (TRANSITION, "At a live-state transition"),
        (BEFORE_START, "Minutes before the start"),
        (AFTER_END, "Minutes after the end"),
    )


class ActionRunStatusChoices(ChoiceSet):
    """Where one firing of an action rule stands; a failure is retried (retrying) up to a limit (then failed)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    FAILED = "failed"

    CHOICES = (
        (PENDING, "Pending"),
        (SUCCEEDED, "Succeeded"),
        (RETRYING, "Retrying"),
        (FAILED, "Failed"),
    )

    CSS_CLASSES = {
        PENDING: "info",
        SUCCEEDED: "success",
        RETRYING: "warning",
        FAILED: "danger",
    }

    # The runs still to be attempted.
    OPEN = (PENDING, RETRYING)

"""Where notifications come from and what became of them.

The sources, the OAuth grant of a Gmail source, the fetched messages, the maintenances the parser read out of
them, and the messages pushed to the app.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection, models
from django.urls import reverse
from nautobot.apps.models import BaseManager, BaseModel, OrganizationalModel, extras_features

from nautobot_ssot_circuit_maintenance.choices import MessageKeptChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE, app_settings
from nautobot_ssot_circuit_maintenance.mail import readable as readable_mail
from nautobot_ssot_circuit_maintenance.mail.bounds import MessageBounds
from nautobot_ssot_circuit_maintenance.mail.packing import unpack
from nautobot_ssot_circuit_maintenance.models.maintenance import CircuitMaintenance
from nautobot_ssot_circuit_maintenance.models.querysets import RawNotificationQuerySet
from nautobot_ssot_circuit_maintenance.providers import sender_address


@extras_features("graphql")
class NotificationSource(OrganizationalModel):
    """A mailbox named in the app's configuration; the configuration holds its URL and secrets."""

    name = models.CharField(max_length=100, unique=True)
    # The kind of mailbox, from `sources.source_kind(url)`: imap, imaps, file or gmail; shown as the type.
    source_type = models.CharField(max_length=20, blank=True)
    providers = models.ManyToManyField("circuits.Provider", related_name="notification_sources", blank=True)
    attach_all_providers = models.BooleanField(default=False)
    # Where the last committed run stopped, per the source kind (IMAP: uidvalidity + last_uid).
    cursor = models.JSONField(default=dict, blank=True)
    # When the last run of this source began and ended: the messages it stored were created in between.
    last_run_started = models.DateTimeField(null=True, blank=True)
    last_run = models.DateTimeField(null=True, blank=True)
    # The sync that run was part of: runs over different sources go on at once, so a time cannot tell it.
    last_sync = models.ForeignKey(
        "nautobot_ssot.Sync", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_error = models.TextField(blank=True)

    natural_key_field_names = ["name"]

    class Meta:
        """Meta attributes."""

        ordering = ("name",)

    def __str__(self):
        """The source's configured name."""
        return self.name


class SourceOAuthToken(BaseModel):
    """The refresh token a user granted a Gmail source through Google's consent page (OAuth client files).

    Kept apart from NotificationSource so that no serializer, form, table, GraphQL type or change
    log ever carries it: nothing but the Gmail source reads it.
    """

    source = models.OneToOneField(NotificationSource, on_delete=models.CASCADE, related_name="oauth_token")
    refresh_token = models.TextField()
    scopes = models.JSONField(default=list)
    granted_by = models.CharField(max_length=150, blank=True)
    granted = models.DateTimeField(auto_now=True)

    def __str__(self):
        """Which source the grant is for."""
        return f"OAuth grant for {self.source}"


class RawNotification(BaseModel):
    """One fetched message and what became of it. Not change-logged; reprocessing updates its outcome."""

    source = models.ForeignKey(
        NotificationSource, on_delete=models.SET_NULL, null=True, blank=True, related_name="raw_notifications"
    )
    # Message-ID when the message has one, else a hash of its content: the same mail is stored once.
    message_key = models.CharField(max_length=255, unique=True)
    # The real sync run that stored it (null: stored otherwise, before this was recorded, or the run was deleted).
    sync = models.ForeignKey("nautobot_ssot.Sync", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    provider = models.ForeignKey(
        "circuits.Provider", on_delete=models.SET_NULL, null=True, blank=True, related_name="raw_notifications"
    )
    sender = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    date = models.DateTimeField(db_index=True)
    # The head of the message, at most `raw_notification_size` bytes: what the API and lists show.
    raw = models.BinaryField()
    # `raw` is shorter than the message.
    raw_truncated = models.BooleanField(default=False)
    # The message's size in bytes.
    raw_size = models.PositiveIntegerField(default=0)
    # The message compressed (`mail/packing.py`): whole, or what could be kept of it (see `message_kept`).
    message = models.BinaryField(default=b"", blank=True, editable=False)
    message_kept = models.CharField(max_length=20, choices=MessageKeptChoices, blank=True)
    # circuit-maintenance-parser's version at the last parse of this message ("" when it was never parsed).
    parser_version = models.CharField(max_length=50, blank=True)
    outcome = models.CharField(max_length=30, choices=OutcomeChoices, db_index=True)
    error = models.TextField(blank=True)
    location = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Taken out of the triage queue by a person, with a reason.
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.CharField(max_length=500, blank=True)
    # When our side received it (IMAP INTERNALDATE, Gmail internalDate, Graph receivedDateTime, file mtime, the
    # push's arrival), never later than `created`: what the fold holds the message's own dates to (intake/fold.py).
    received = models.DateTimeField(null=True, blank=True)
    # The last time the same message (same key) reached a mailbox again, after it was stored: a provider sending a
    # notice again re-asserts it over doubted notices that arrived in between (intake/fold.py).
    last_seen = models.DateTimeField(null=True, blank=True)
    # Whether the sender proved who it is (intake/authenticate.py); None when the source did not ask.
    sender_authenticated = models.BooleanField(null=True, blank=True)
    # A notice one of the source's forwarders forwarded (mail/forwards.py): who forwarded it, as shown, and the
    # forward's date. The stored message is the forward; sender, subject and date are the notice's own.
    forwarded_by = models.CharField(max_length=255, blank=True)
    forwarded_at = models.DateTimeField(null=True, blank=True)
    # Left out of every fold by a person, as forged or mistaken, with a reason (the maintenance is recomputed).
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    excluded_at = models.DateTimeField(null=True, blank=True)
    exclusion_reason = models.CharField(max_length=500, blank=True)
    # A notice that awaited confirmation and a person confirmed (it then counts like any other).
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = BaseManager.from_queryset(RawNotificationQuerySet)()

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False
    natural_key_field_names = ["message_key"]

    class Meta:
        """Meta attributes."""

        ordering = ("-date",)
        indexes = [
            # The versions a store was parsed with, found without reading every row (`parser_versions`).
            models.Index(fields=["parser_version"], name="cm_raw_parser_version_idx"),
            # What a source's last run stored (the overview's last sync of each source), among all its mail.
            models.Index(fields=["source", "created"], name="cm_raw_source_created_idx"),
        ]

    def __str__(self):
        """The message's subject, else its key."""
        return self.subject or self.message_key

    def get_absolute_url(self, api: bool = False) -> str:
        """The notification's UI page, or its REST API endpoint with `api`."""
        if api:
            return reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:rawnotification-detail", args=[self.pk])
        return reverse(f"{URL_NAMESPACE}:rawnotification", args=[self.pk])

    @property
    def kept(self) -> str:
        """How much of the message is stored (MessageKeptChoices); rows made without `message` hold only `raw`."""
        if self.message_kept:
            return self.message_kept
        return MessageKeptChoices.TRUNCATED if self.raw_truncated else MessageKeptChoices.WHOLE

    @property
    def is_whole(self) -> bool:
        """The stored message is the whole message: it can be read and parsed again as it came."""
        return self.kept == MessageKeptChoices.WHOLE

    def message_bytes(self) -> bytes:
        """The message as stored: the whole message when `is_whole`, else the part that was kept."""
        if self.message:
            return unpack(self.message, max(self.raw_size, len(self.raw or b"")))
        return bytes(self.raw or b"")

    def readable(self) -> readable_mail.ReadableMail:
        """The message as a person reads it: decoded headers, text, sanitized HTML, attachments."""
        return readable_mail.read_mail(self.message_bytes(), _bounds())

    def attachment(self, index: int) -> tuple[readable_mail.Attachment, bytes] | None:
        """One attachment of the message (as `readable().attachments` lists them) with its bytes."""
        return readable_mail.attachment(self.message_bytes(), index, _bounds())

    def get_outcome_class(self) -> str:
        """The badge class of the outcome."""
        return OutcomeChoices.CSS_CLASSES.get(self.outcome, "secondary")

    @property
    def sender_address(self) -> str:
        """The one sender address the stored sender names, lower-cased ("" unless it names exactly one)."""
        return sender_address(self.sender)

    @property
    def forwarded(self) -> tuple[str, Any] | None:
        """(who forwarded the notice, the forward's date) when one of the source's forwarders did, else None."""
        return (self.forwarded_by, self.forwarded_at) if self.forwarded_by else None

    @property
    def witnessed(self) -> Any:
        """When our side received it: the mailbox's time when it is known and not after storing, else storing."""
        if self.received is not None and (self.created is None or self.received <= self.created):
            return self.received
        return self.created

    @property
    def is_excluded(self) -> bool:
        """Whether a person left the notice out of every fold."""
        return self.excluded_at is not None

    @property
    def needs_triage(self) -> bool:
        """Whether the notification is in the triage queue (one query: `RawNotificationQuerySet.needs_triage`)."""
        return RawNotification.objects.filter(pk=self.pk).needs_triage().exists()

    @classmethod
    def parser_versions(cls) -> list[str]:
        """The parser versions the stored notifications were parsed with, sorted ("" left out).

        A loose index scan of `parser_version` (its index, `parser_versions_sql`): one index probe per version, each
        finding the next one above the last, so that the few versions of a store of a million notifications are
        found without reading a million rows (SELECT DISTINCT would).
        """
        with connection.cursor() as cursor:
            cursor.execute(cls.parser_versions_sql())
            return [version for (version,) in cursor.fetchall()]

    @classmethod
    def parser_versions_sql(cls) -> str:
        """The statement of `parser_versions`: a recursive walk up the index, from one version to the next."""
        table = connection.ops.quote_name(cls._meta.db_table)
        column = connection.ops.quote_name(cls._meta.get_field("parser_version").column)
        return (
            f"WITH RECURSIVE versions(version) AS ("  # noqa: S608 - names from the model, no input
            f"(SELECT {column} FROM {table} WHERE {column} > '' ORDER BY {column} LIMIT 1) "
            f"UNION ALL SELECT (SELECT {column} FROM {table} WHERE {column} > versions.version "
            f"ORDER BY {column} LIMIT 1) FROM versions WHERE versions.version IS NOT NULL) "
            "SELECT version FROM versions WHERE version IS NOT NULL"
        )


def _bounds() -> MessageBounds:
    return MessageBounds.from_settings(app_settings())


class ParsedNotification(BaseModel):
    """One maintenance the parser read out of a raw notification. An immutable fact: not change-logged."""

    raw_notification = models.ForeignKey(RawNotification, on_delete=models.CASCADE, related_name="parsed_notifications")
    maintenance = models.ForeignKey(
        CircuitMaintenance,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="parsed_notifications",
    )
    # The maintenance identity, kept here so history is found even before the maintenance exists.
    provider = models.ForeignKey("circuits.Provider", on_delete=models.CASCADE, related_name="+")
    provider_maintenance_id = models.CharField(max_length=255, verbose_name="Maintenance ID")
    json = models.JSONField()
    # What the app read out of the notice besides the parser for this maintenance (intake/notice_facts.py), e.g.
    # {"time_zone": "CET (UTC+01:00)"}; kept apart so that `json` stays the parser's own output.
    read_by_app = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False

    class Meta:
        """Meta attributes."""

        ordering = ("raw_notification", "created")
        indexes = [models.Index(fields=["provider", "provider_maintenance_id"])]

    def __str__(self):
        """The maintenance ID and the status the notice gave it."""
        return f"{self.provider_maintenance_id} ({self.json.get('status', '?')})"


class PushedMessage(models.Model):
    """A message posted to the push endpoint or uploaded in the UI, waiting for the sync to read it.

    The built-in "pushed" source (intake/pushed.py) reads these in `sequence` order; its cursor is the
    last sequence committed, so nothing is read twice and nothing is skipped. A row the cursor has
    passed is stored as a RawNotification and is deleted by the next push (see watch/push.py).
    Its `add` permission is the push permission.
    """

    sequence = models.BigAutoField(primary_key=True)
    # Same key as the RawNotification it becomes (intake/parse.py `message_key`): duplicates answer with it.
    message_key = models.CharField(max_length=255, unique=True)
    raw = models.BinaryField()
    received = models.DateTimeField(auto_now_add=True)
    pushed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        """Meta attributes."""

        ordering = ("sequence",)
        verbose_name = "pushed message"

    def __str__(self):
        """The message's place in the push sequence."""
        return f"pushed #{self.sequence}"

    @property
    def location(self) -> str:
        """Where the stored RawNotification says it came from."""
        return f"push#{self.sequence}"

"""The send of an approved customer notice: one message per recipient, each sent at most once, every answer kept.

Through Django's e-mail backend (the relay in `customer_notices.smtp`, customers/settings.py). Each recipient row
walks pending → sending → sent | refused:

1. **Claim.** In a transaction of its own, a worker takes the first pending row it can lock (`SELECT … FOR UPDATE
   SKIP LOCKED`: two workers never take the same row), takes a PostgreSQL session advisory lock named after the
   row, marks it `sending` and commits. The advisory lock lives as long as the worker's database session.
2. **Send**, outside any transaction, then record what the server answered: `sent`, or `refused` with the
   server's reply (a refused recipient, sender or message), and release the advisory lock.

A worker killed between 1 and 2 leaves its row `sending`; its database session ends with it, and with the session
its advisory lock. The next run finds such a row whose lock it can take and marks it `unknown`: it may or may not
have left, so it is not sent again until a person resends it. A retry or a second worker thus never sends twice,
and a notice is `sent` once no row is pending or sending.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import make_msgid
from typing import Any

from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone

from nautobot_ssot_circuit_maintenance.choices import NoticeStateChoices, RecipientStateChoices
from nautobot_ssot_circuit_maintenance.compat.changelog import change_logged
from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.customers.render import ATTACHMENT_NAME, ATTACHMENT_TYPE
from nautobot_ssot_circuit_maintenance.customers.settings import NoticeSettings, mail_connection, notice_settings
from nautobot_ssot_circuit_maintenance.models import CustomerNotice, CustomerNoticeRecipient

CHANGE_CONTEXT_DETAIL = f"{APP_NAME}: customer notice send"
INTERRUPTED = "The send was interrupted (the worker stopped): it may or may not have been delivered. Resend if needed."
ANSWER_LENGTH = 1000


class SendFailed(RuntimeError):
    """The relay could not be reached or used: nothing was claimed, the next run tries again."""


@dataclass(frozen=True)
class RecipientOutcome:
    """What became of one recipient in this run."""

    address: str
    state: str
    answer: str


@dataclass
class SendOutcome:
    """What a run did for one notice."""

    notice: CustomerNotice | None = None
    recipients: list[RecipientOutcome] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)


def build_message(notice: CustomerNotice, address: str, settings: NoticeSettings, message_id: str = "") -> EmailMessage:
    """The message `address` receives: the notice's subject and body, its iCalendar attached. The preview shows it."""
    headers = {"X-Nautobot-Customer-Notice": str(notice.pk)}
    if message_id:
        headers["Message-ID"] = message_id
    message = EmailMessage(
        subject=notice.subject,
        body=notice.body,
        from_email=settings.from_address,
        to=[address],
        reply_to=[settings.reply_to] if settings.reply_to else None,
        headers=headers,
    )
    if notice.calendar:
        message.attach(ATTACHMENT_NAME, notice.calendar, ATTACHMENT_TYPE)
    return message


def _lock_key(row_pk: Any) -> int:
    """The advisory lock's key for a recipient row: 64 bits of its UUID, as a signed bigint."""
    return int.from_bytes(row_pk.bytes[:8], "big", signed=True)


def _try_lock(key: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        return bool(cursor.fetchone()[0])


def _unlock(key: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def sweep_interrupted(notice: CustomerNotice) -> list[str]:
    """Mark `unknown` the rows left `sending` by a worker that is gone (their advisory lock is free); return them."""
    swept = []
    with transaction.atomic():
        rows = CustomerNoticeRecipient.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            notice=notice, state=RecipientStateChoices.SENDING
        )
        for row in rows:
            key = _lock_key(row.pk)
            if not _try_lock(key):
                continue  # its worker is still at it
            try:
                row.state, row.answer = RecipientStateChoices.UNKNOWN, INTERRUPTED
                row.save(update_fields=["state", "answer"])
                swept.append(row.address)
            finally:
                _unlock(key)
    return swept


def claim_next(notice: CustomerNotice) -> CustomerNoticeRecipient | None:
    """Take the next pending row of the notice for this worker (see the module's docstring); None when none is left.

    The caller holds the row's advisory lock until it calls `record`.
    """
    with transaction.atomic():
        row = (
            CustomerNoticeRecipient.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(notice=notice, state=RecipientStateChoices.PENDING)
            .order_by("address")
            .first()
        )
        if row is None:
            return None
        if not _try_lock(_lock_key(row.pk)):
            return None  # cannot happen while the row is locked; never send without the lock
        row.state, row.claimed_at, row.attempts = RecipientStateChoices.SENDING, timezone.now(), row.attempts + 1
        row.message_id = make_msgid(domain=_domain(notice))
        row.save(update_fields=["state", "claimed_at", "attempts", "message_id"])
    return row


def _domain(notice: CustomerNotice) -> str:
    sender = notice_settings().from_address
    return sender.rpartition("@")[2].strip("> ") or "localhost"


def record(row: CustomerNoticeRecipient, state: str, answer: str) -> None:
    """Store what became of the row, then let go of its advisory lock."""
    try:
        row.state, row.answer = state, answer[:ANSWER_LENGTH]
        if state == RecipientStateChoices.SENT:
            row.sent_at = timezone.now()
        row.save(update_fields=["state", "answer", "sent_at"])
    finally:
        _unlock(_lock_key(row.pk))


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}".strip()


def deliver(mail: Any, message: EmailMessage, address: str) -> tuple[str, str]:
    """Hand one message to the open connection: (state, the server's answer). OSError when the relay is gone."""
    try:
        mail.send_messages([message])
    except smtplib.SMTPRecipientsRefused as error:
        code, text = next(iter(error.recipients.values()), (0, b"refused"))
        return RecipientStateChoices.REFUSED, _reply(code, text)
    except smtplib.SMTPResponseException as error:  # the sender or the message refused
        return RecipientStateChoices.REFUSED, _reply(error.smtp_code, error.smtp_error)
    return RecipientStateChoices.SENT, f"Accepted by the relay for {address}"


def _start(pk: Any) -> CustomerNotice | None:
    """Move an approved notice to sending (a notice already sending goes on); None when it is not to be sent."""
    with transaction.atomic(), change_logged(CHANGE_CONTEXT_DETAIL):
        notice = CustomerNotice.objects.select_for_update(of=("self",)).filter(pk=pk).first()
        if notice is None or notice.state not in (NoticeStateChoices.APPROVED, NoticeStateChoices.SENDING):
            return None
        if notice.state == NoticeStateChoices.APPROVED:
            notice.state = NoticeStateChoices.SENDING
            notice.save()
        return notice


def _finish(notice: CustomerNotice) -> None:
    """Mark the notice sent once no recipient is pending or sending."""
    with transaction.atomic(), change_logged(CHANGE_CONTEXT_DETAIL):
        notice = CustomerNotice.objects.select_for_update(of=("self",)).get(pk=notice.pk)
        busy = notice.recipients.filter(state__in=(RecipientStateChoices.PENDING, RecipientStateChoices.SENDING))
        if notice.state == NoticeStateChoices.SENDING and not busy.exists():
            notice.state = NoticeStateChoices.SENT
            notice.sent_at = notice.sent_at or timezone.now()
            notice.save()


def send_notice(
    pk: Any,
    *,
    settings: NoticeSettings | None = None,
    report: Callable[[RecipientOutcome], None] | None = None,
) -> SendOutcome:
    """Send an approved notice to its pending recipients (see the module's docstring); SendFailed if the relay fails."""
    settings = settings or notice_settings()
    notice = _start(pk)
    outcome = SendOutcome(notice=notice)
    if notice is None:
        return outcome
    outcome.interrupted = sweep_interrupted(notice)
    if notice.recipients.filter(state=RecipientStateChoices.PENDING).exists():
        mail = mail_connection(settings)
        try:
            mail.open()
        except (OSError, smtplib.SMTPException) as error:
            raise SendFailed(f"The mail relay could not be used: {type(error).__name__}: {error}") from None
        try:
            while (row := claim_next(notice)) is not None:
                try:
                    state, answer = deliver(
                        mail, build_message(notice, row.address, settings, row.message_id), row.address
                    )
                except (OSError, smtplib.SMTPException) as error:
                    record(row, RecipientStateChoices.UNKNOWN, f"{type(error).__name__}: {error}")
                    raise SendFailed(f"The mail relay failed while sending to {row.address}: {error}") from None
                record(row, state, answer)
                result = RecipientOutcome(row.address, state, answer)
                outcome.recipients.append(result)
                if report is not None:
                    report(result)
        finally:
            mail.close()
    _finish(notice)
    return outcome


def notices_to_send() -> list[Any]:
    """The notices a send run looks at: approved, or sending (a resend, or a run cut short)."""
    states = (NoticeStateChoices.APPROVED, NoticeStateChoices.SENDING)
    return list(
        CustomerNotice.objects.filter(state__in=states).order_by("approved_at", "pk").values_list("pk", flat=True)
    )

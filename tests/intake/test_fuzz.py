"""Hostile mail through the real sync job: one message never stops a run (issue 6, "Proof").

What runs: hypothesis draws a *list* of hostile messages (tests/fixtures/hostile_mail.py); each list is one
example. The messages, with a few good corpus mails among them, go into a local-folder source and
the real job syncs them (worker processes, PostgreSQL, the SSoT sync). Then:

- the job succeeded, and every delivered file is stored as exactly one raw notification whose
  outcome is one of `OutcomeChoices` (failure outcomes carry an error; unknown senders never get a
  provider; a real provider mail whose only damage is its Date still yields its maintenances);
- the good mails' maintenances are exactly what a run over the good mails alone gives;
- the REST lists of raw notifications, parsed notifications and maintenances, the calendar feed,
  the list pages and every maintenance and raw notification page answer 200;
- a second run changes nothing: no new row, no SyncLogEntry with action create or update.

Budget and seed, from the environment:

- CM_FUZZ_SEED (default 20240601): hypothesis' seed, so CI draws the same messages every time;
- CM_FUZZ_EXAMPLES (default 3; 0: the pinned list only) lists of CM_FUZZ_BATCH (default 20)
  messages, after the pinned list (`hostile_mail.pinned_batch`: one mail per case issue 6 reports,
  with the outcome each must get), which every run checks whatever the seed: 27 + 60 = 87 hostile
  mails in CI;
- CM_FUZZ_SHRINK=1 lets hypothesis shrink a failing list (one job run per step: slow);
- CM_FUZZ_SAVE (default /tmp/cm-fuzz-failures): where a failing list's files are kept.

`./run fuzz` runs a long campaign with a random seed (see tasks.py). No example database is kept
(`database=None`): a run depends on its seed only. Without shrinking, a failure still points at its
input: per-message checks name the file and its recipe, and when the whole job fails, the batch is
bisected (one job run per step) down to the message that makes it fail.

The first example hypothesis draws is its simplest one: every corpus mail undamaged, with a new
Message-ID, from its own sender. It is kept: it checks the hostile batch's baseline.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from email.utils import getaddresses
from pathlib import Path

from django.urls import reverse
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot_ssot.models import SyncLogEntry

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from tests.fixtures.hostile_mail import (
    FORWARDERS,
    FUZZ_DOMAIN,
    GOOD_MAILS,
    HostileMail,
    good_mail,
    hostile_batches,
    pinned_batch,
)
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import create_providers_and_circuits

SEED = int(os.environ.get("CM_FUZZ_SEED", "20240601"))
EXAMPLES = int(os.environ.get("CM_FUZZ_EXAMPLES", "3"))
BATCH = int(os.environ.get("CM_FUZZ_BATCH", "20"))
SHRINK = os.environ.get("CM_FUZZ_SHRINK") == "1"
SAVE = Path(os.environ.get("CM_FUZZ_SAVE", "/tmp/cm-fuzz-failures"))  # noqa: S108 - a developer's scratch folder

# Bounds for the run: a small size limit makes `too-large` by size cheap to reach; a parse that hangs costs 20 s.
MESSAGE_LIMITS = {"max_message_mb": 2, "parse_timeout_seconds": 20}
FAILURE_OUTCOMES = {OutcomeChoices.PARSING_FAILED, OutcomeChoices.TOO_LARGE, OutcomeChoices.PARSE_TIMEOUT}
MAINTENANCE_OUTCOMES = {OutcomeChoices.PARSED, OutcomeChoices.UNKNOWN_CIDS, OutcomeChoices.OUT_OF_SEQUENCE}
API = "plugins-api:nautobot_ssot_circuit_maintenance-api"
UI = "plugins:nautobot_ssot_circuit_maintenance"
VIEW_PERMISSIONS = [
    f"nautobot_ssot_circuit_maintenance.view_{model}"
    for model in (
        "circuitmaintenance",
        "circuitimpact",
        "maintenancenote",
        "rawnotification",
        "parsednotification",
        "notificationsource",
    )
] + ["circuits.view_provider", "circuits.view_circuit"]

# Totals over the whole test, printed at its end: the figures of a campaign.
FIGURES: Counter[str] = Counter()


def maintenances() -> dict[tuple[str, str], tuple]:
    """Every maintenance by (provider, maintenance id): status, times, windows and impacts."""
    rows = {}
    for record in CircuitMaintenance.objects.select_related("provider").order_by("provider__name", "maintenance_id"):
        rows[(record.provider.name, record.maintenance_id)] = (
            record.status,
            record.start_time,
            record.end_time,
            record.windows,
            tuple(sorted(record.circuit_impacts.values_list("circuit__cid", "impact"))),
            tuple(record.unresolved_circuit_ids),
        )
    return rows


def only_unknown_senders(header: str) -> bool:
    """The stored From names addresses, all of them in the never-claimed test domain."""
    addresses = [address.lower() for _, address in getaddresses([header]) if "@" in address]
    return bool(addresses) and all(
        address.endswith("@" + FUZZ_DOMAIN) or address.endswith("." + FUZZ_DOMAIN) for address in addresses
    )


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (RawNotification, ParsedNotification, CircuitMaintenance, CircuitImpact, MaintenanceNote)
    }


class HostileMailFuzzTest(JobTestMixin, TransactionTestCase):
    """Batches of hostile mail, each with the good corpus mail, through the real job (see the module docstring)."""

    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.add_permissions(*VIEW_PERMISSIONS)
        self.example = 0
        # What the good mails give when they are alone: the reference for every example.
        folder = self.fresh_folder()
        for name in GOOD_MAILS:
            folder.add(good_mail(name), f"good-{name}")
        result = self.sync(folder)
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, self.describe(result))
        self.good = maintenances()
        self.assertEqual(len(self.good), 7)  # sparkle1 speaks about three maintenances
        self.good_outcomes = {
            location.split("-", 1)[1]: outcome
            for location, outcome in RawNotification.objects.values_list("location", "outcome")
        }

    def tearDown(self):
        outcomes = {key.split(":", 1)[1]: count for key, count in sorted(FIGURES.items()) if key.startswith("outcome:")}
        sys.stderr.write(
            f"\nfuzz: seed {SEED}, {FIGURES['batches']} batches (the pinned one and up to {EXAMPLES} of {BATCH}): "
            f"{FIGURES['messages']} hostile mails synced with the good ones, outcomes {outcomes}\n"
        )
        super().tearDown()

    # -- helpers --------------------------------------------------------------------------------------

    def fresh_folder(self) -> MailFolder:
        """An empty folder and a database without mail records (providers and circuits stay)."""
        CircuitMaintenance.objects.all().delete()
        RawNotification.objects.all().delete()
        NotificationSource.objects.update(cursor={})
        folder = MailFolder("Fuzz folder")
        self.addCleanup(folder.cleanup)
        return folder

    def sync(self, folder: MailFolder):
        # Forwards from the fuzz forwarder are unwrapped (hostile_mail.forward_mail).
        with self.configured([{**folder.source, "forwarders": list(FORWARDERS)}], message_limits=MESSAGE_LIMITS):
            result, self.last_sync = self.run_sync()
        return result

    def deliver(self, batch: list[HostileMail]) -> tuple[MailFolder, dict[str, HostileMail | None]]:
        """The batch with the good mails spread among it; file name → the hostile mail (None: a good mail)."""
        folder = self.fresh_folder()
        delivered: dict[str, HostileMail | None] = {}
        step = max(1, len(batch) // len(GOOD_MAILS))
        good = list(GOOD_MAILS)
        for index, mail in enumerate(batch):
            if index % step == 0 and good:
                name = good.pop(0)
                delivered[folder.add(good_mail(name), f"good-{name}").name] = None
            token = f"s{SEED}e{self.example}m{index}"
            delivered[folder.add(mail.render(token), f"fuzz-{index}").name] = mail
        for name in good:
            delivered[folder.add(good_mail(name), f"good-{name}").name] = None
        return folder, delivered

    def describe(self, result) -> str:
        """The end of a job's log and its traceback."""
        return f"{self.job_log(result)[-3000:]}\n{result.traceback or ''}"[-6000:]

    def keep(self, folder: MailFolder, delivered: dict[str, HostileMail | None]) -> Path:
        """Copy the failing batch's files and recipes to CM_FUZZ_SAVE, for replay."""
        target = SAVE / f"seed-{SEED}-example-{self.example}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder.path, target)
        recipes = "\n".join(
            f"{name}\t{mail.recipe if mail else 'good corpus mail'}" for name, mail in delivered.items()
        )
        (target / "RECIPES.tsv").write_text(recipes + "\n", encoding="utf-8")
        return target

    def job_fails(self, files: list[tuple[str, bytes]]) -> bool:
        folder = self.fresh_folder()
        for name, raw in files:
            (folder.path / name).write_bytes(raw)
        result = self.sync(folder)
        return result.status != JobResultStatusChoices.STATUS_SUCCESS or RawNotification.objects.count() != len(files)

    def bisect(self, folder: MailFolder, delivered: dict[str, HostileMail | None]) -> str:
        """The smallest set of hostile files found that still fails the job (a job run per step)."""
        files = [(name, (folder.path / name).read_bytes()) for name, mail in delivered.items() if mail]
        if not self.job_fails(files):
            return "the hostile mail alone does not fail the job: it fails only together with the good mail"
        while len(files) > 1:
            half = len(files) // 2
            if self.job_fails(files[:half]):
                files = files[:half]
            elif self.job_fails(files[half:]):
                files = files[half:]
            else:
                break  # it takes messages from both halves
        return "\n".join(f"{name}: {delivered[name].recipe}\n    {raw[:300]!r}" for name, raw in files)

    # -- the property ---------------------------------------------------------------------------------

    def test_hostile_mail_never_stops_the_sync(self):
        # @given sits on an inner function, not on the method: hypothesis' Django test cases flush the
        # database after every example, which would take the Nautobot fixtures with it. Each example
        # starts from a database without mail records instead (fresh_folder).
        @seed(SEED)
        @settings(
            max_examples=max(1, EXAMPLES),
            deadline=None,
            database=None,
            derandomize=False,
            phases=(Phase.explicit, *((Phase.generate,) if EXAMPLES else ()), *((Phase.shrink,) if SHRINK else ())),
            suppress_health_check=list(HealthCheck),
        )
        @given(batch=hostile_batches(BATCH))
        @example(batch=pinned_batch())
        def one_batch(batch: list[HostileMail]) -> None:
            self.example += 1
            folder, delivered = self.deliver(batch)
            try:
                self.check_batch(folder, delivered)
            except AssertionError:
                kept = self.keep(folder, delivered)
                sys.stderr.write(f"\nfuzz: the failing batch is kept in {kept}\n")
                raise

        one_batch()

    def check_batch(self, folder: MailFolder, delivered: dict[str, HostileMail | None]) -> None:
        result = self.sync(folder)
        if result.status != JobResultStatusChoices.STATUS_SUCCESS:
            log = self.describe(result)
            culprits = self.bisect(folder, delivered)
            self.fail(f"the job ended {result.status}:\n{log}\n\nThe message(s) that fail it:\n{culprits}")

        # Every file stored once, with an outcome of the vocabulary.
        stored = Counter(RawNotification.objects.values_list("location", flat=True))
        self.assertEqual(sum(stored.values()), len(delivered), f"{len(delivered)} files, {sum(stored.values())} rows")
        missing = [f"{name}: {delivered[name]!r}" for name in delivered if stored[name] != 1]
        self.assertFalse(missing, "files not stored exactly once:\n" + "\n".join(missing))
        parsed_counts = Counter(ParsedNotification.objects.values_list("raw_notification__location", flat=True))
        for raw in RawNotification.objects.all():
            mail = delivered[raw.location]
            what = f"{raw.location} ({mail!r}) → {raw.outcome} {raw.error[:300]!r}"
            self.assertIn(raw.outcome, OutcomeChoices.values(), what)
            if raw.outcome in FAILURE_OUTCOMES:
                self.assertTrue(raw.error, f"no error text: {what}")
            if raw.provider_id is None:
                self.assertEqual(parsed_counts[raw.location], 0, f"maintenances without a provider: {what}")
            if only_unknown_senders(raw.sender):
                self.assertIsNone(raw.provider_id, f"an unknown sender got a provider: {what}")
            if mail is not None and mail.outcomes:
                self.assertIn(raw.outcome, mail.outcomes, what)
            if mail is None:
                self.assertEqual(raw.outcome, self.good_outcomes[raw.location.split("-", 1)[1]], what)
            elif mail.expects_maintenance:
                self.assertIn(raw.outcome, MAINTENANCE_OUTCOMES, f"a real notice lost: {what}")
                self.assertGreater(parsed_counts[raw.location], 0, f"a real notice lost: {what}")
            if mail is not None:
                FIGURES["outcome:" + raw.outcome] += 1
        FIGURES["messages"] += len(delivered) - len(GOOD_MAILS)
        FIGURES["batches"] += 1

        # The good mail syncs exactly as it does alone.
        after = maintenances()
        for key, expected in self.good.items():
            self.assertEqual(after.get(key), expected, f"good maintenance {key} differs")

        # Nothing stored breaks a read.
        self.check_pages()

        # A second run changes nothing.
        before_counts, before = row_counts(), after
        result = self.sync(folder)
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, self.describe(result))
        self.assertEqual(row_counts(), before_counts)
        self.assertEqual(maintenances(), before)
        changes = SyncLogEntry.objects.filter(sync=self.last_sync, action__in=("create", "update"))
        self.assertFalse(changes.exists(), [entry.message for entry in changes[:5]])

    def check_pages(self) -> None:
        urls = [
            reverse(f"{API}:rawnotification-list") + "?limit=1000",
            reverse(f"{API}:parsednotification-list") + "?limit=1000",
            reverse(f"{API}:circuitmaintenance-list") + "?limit=1000&exclude_m2m=False",
            reverse(f"{API}:circuitmaintenance-calendar"),
            reverse(f"{UI}:circuitmaintenance_list"),
            reverse(f"{UI}:rawnotification_list"),
        ]
        urls += [record.get_absolute_url() for record in CircuitMaintenance.objects.all()]
        urls += [record.get_absolute_url() for record in RawNotification.objects.all()]
        for url in urls:
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, f"GET {url}")

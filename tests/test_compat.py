"""The workarounds in compat.py: each fails loudly here when the library under it changes."""

from __future__ import annotations

import email
import inspect
import json
import logging
import threading
import unittest
from datetime import datetime, timedelta, timezone
from unittest import mock

import chardet
from bs4 import dammit
from circuit_maintenance_parser import provider
from circuit_maintenance_parser.provider import GenericProvider
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from nautobot.apps.testing import TestCase, TransactionTestCase
from nautobot.circuits.models import Provider
from nautobot.core.models.utils import serialize_object_v2
from nautobot.extras import jobs as nautobot_jobs
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.context_managers import web_request_context
from nautobot.extras.management import populate_status_choices
from nautobot.extras.models import Job, JobHook, JobResult, ObjectChange
from nautobot.extras.utils import change_logged_models_queryset
from nautobot_ssot.jobs.base import DataSource
from nautobot_ssot.models import Sync, SyncLogEntry

from nautobot_ssot_circuit_maintenance.compat.changelog import (
    change_logged_models_read_once,
    log_bulk_creations,
    log_bulk_updates,
)
from nautobot_ssot_circuit_maintenance.compat.jobs import job_failure_text, run_job_here
from nautobot_ssot_circuit_maintenance.compat.panels import has_table_queryset_hook
from nautobot_ssot_circuit_maintenance.compat.parser import (
    PARSER_LOGGER,
    quiet_parser_logging,
    use_fast_charset_detection,
)
from nautobot_ssot_circuit_maintenance.compat.releases import (
    cable_paths_lookup,
    collapsed_panel_options,
    data_compliance_view_mixin,
    generic_prefetch,
    job_inputs,
    request_cache,
    validated_object,
)
from nautobot_ssot_circuit_maintenance.compat.ssot import TIMING_FIELDS, ChunkedDataSource
from nautobot_ssot_circuit_maintenance.intake.parse import parse_maintenances
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance
from tests.fixtures.job_helpers import JobTestMixin
from tests.fixtures.sample_data import corpus_messages, expected_maintenances


def parse_corpus() -> dict[str, object]:
    results: dict[str, object] = {}
    for name, raw, entry in corpus_messages():
        try:
            results[name] = parse_maintenances(email.message_from_string(raw.decode()), entry["provider_parser"])
        except Exception as error:  # noqa: BLE001 - a failure is a result to compare too
            results[name] = f"{type(error).__name__}: {error}"
    return results


class ParserLoggingTestCase(unittest.TestCase):
    def test_the_parser_logs_under_the_name_we_quiet(self):
        # The parser's modules log through children of its package logger, which is what we quiet.
        self.assertTrue(provider.logger.name.startswith(f"{PARSER_LOGGER}."), provider.logger.name)
        quiet_parser_logging()
        self.assertEqual(provider.logger.getEffectiveLevel(), logging.CRITICAL)


class FastCharsetDetectionTestCase(unittest.TestCase):
    def tearDown(self):
        use_fast_charset_detection(True)

    def test_the_libraries_still_read_the_names_we_set(self):
        self.assertIn("chardet.detect(", inspect.getsource(GenericProvider.filter_check))
        self.assertIn("\nimport chardet\n", inspect.getsource(provider))  # the module name the parser calls through
        self.assertIn("module = chardet_module", inspect.getsource(dammit._chardet_dammit))

    def test_switch(self):
        self.assertTrue(use_fast_charset_detection(True))
        self.assertEqual(dammit.chardet_module.__name__, "cchardet")
        self.assertEqual(provider.chardet.detect("é".encode())["encoding"].lower(), "utf-8")
        self.assertFalse(use_fast_charset_detection(False))
        self.assertIs(provider.chardet, chardet)
        self.assertIs(dammit.chardet_module, chardet)

    def test_every_corpus_mail_parses_identically_with_and_without(self):
        use_fast_charset_detection(False)
        plain = parse_corpus()
        use_fast_charset_detection(True)
        fast = parse_corpus()
        self.assertEqual(set(plain), set(fast))
        for name in plain:
            self.assertEqual(fast[name], plain[name], name)
            self.assertEqual(fast[name], expected_maintenances(name), name)


class BulkChangeLoggingTestCase(TestCase):
    """`compat.log_bulk_creations` records what Nautobot itself records for a save()."""

    def test_a_bulk_created_record_is_logged_as_a_saved_one(self):
        populate_status_choices(apps, None)
        provider = Provider.objects.create(name="Compat Carrier")
        user = get_user_model().objects.create_user(username="compat-user", is_superuser=True)
        start = datetime(2026, 12, 1, 2, tzinfo=timezone.utc)

        def maintenance(maintenance_id: str) -> CircuitMaintenance:
            return CircuitMaintenance(
                provider=provider,
                maintenance_id=maintenance_id,
                name=maintenance_id,
                status="CONFIRMED",
                start_time=start,
                end_time=start + timedelta(hours=2),
            )

        with web_request_context(user):
            maintenance("SAVED").save()
            bulk, other = maintenance("BULK"), maintenance("OTHER")
            CircuitMaintenance.objects.bulk_create([bulk, other])
            self.assertEqual(log_bulk_creations([bulk, other]), 2)
        saved_change, bulk_change = (
            ObjectChange.objects.get(changed_object_id=CircuitMaintenance.objects.get(maintenance_id=mid).pk)
            for mid in ("SAVED", "BULK")
        )
        for field in ("action", "user", "user_name", "request_id", "change_context", "change_context_detail"):
            self.assertEqual(getattr(bulk_change, field), getattr(saved_change, field), field)
        self.assertEqual(bulk_change.object_data.keys(), saved_change.object_data.keys())
        self.assertEqual(bulk_change.object_data_v2.keys(), saved_change.object_data_v2.keys())
        differing = {key for key, value in saved_change.object_data.items() if bulk_change.object_data[key] != value}
        self.assertLessEqual(
            differing, {"id", "maintenance_id", "name", "created", "last_updated", "natural_slug", "display"}
        )
        self.assertEqual(bulk_change.object_data["tags"], [])
        # The serializer built once for all records gives each what serializing it alone gives.
        for record in CircuitMaintenance.objects.filter(maintenance_id__in=["BULK", "OTHER"]):
            logged = ObjectChange.objects.get(changed_object_id=record.pk).object_data_v2
            alone = json.loads(json.dumps(serialize_object_v2(record), cls=DjangoJSONEncoder))
            self.assertEqual(
                {k: v for k, v in logged.items() if k != "last_updated"},
                {k: v for k, v in alone.items() if k != "last_updated"},
            )

    def test_a_bulk_updated_record_is_logged_as_a_saved_one(self):
        populate_status_choices(apps, None)
        provider = Provider.objects.create(name="Compat Carrier")
        user = get_user_model().objects.create_user(username="compat-user", is_superuser=True)
        start = datetime(2026, 12, 1, 2, tzinfo=timezone.utc)
        older, saved, bulk = (
            CircuitMaintenance.objects.create(
                provider=provider,
                maintenance_id=mid,
                name=mid,
                status="CONFIRMED",
                start_time=start,
                end_time=start + timedelta(hours=2),
            )
            for mid in ("OLDER", "SAVED", "BULK")
        )
        with web_request_context(user):
            saved.replaces = older
            saved.save()
            bulk.replaces = older
            CircuitMaintenance.objects.bulk_update([bulk], ["replaces"])
            self.assertEqual(log_bulk_updates(list(CircuitMaintenance.objects.filter(pk=bulk.pk))), 1)
        saved_change, bulk_change = (
            ObjectChange.objects.get(changed_object_id=record.pk, action="update") for record in (saved, bulk)
        )
        for field in ("user", "user_name", "request_id", "change_context", "change_context_detail"):
            self.assertEqual(getattr(bulk_change, field), getattr(saved_change, field), field)
        self.assertEqual(bulk_change.object_data_v2["replaces"], saved_change.object_data_v2["replaces"])
        self.assertEqual(bulk_change.object_data_v2["replaces"]["id"], str(older.pk))
        alone = json.loads(json.dumps(serialize_object_v2(bulk), cls=DjangoJSONEncoder))
        self.assertEqual(
            {k: v for k, v in bulk_change.object_data_v2.items() if k != "last_updated"},
            {k: v for k, v in alone.items() if k != "last_updated"},
        )


class ChangeLoggedModelsReadOnceTestCase(TestCase):
    """compat/changelog.py answers Nautobot's per-change lookup of change-logged models once per job."""

    def test_nautobot_looks_the_models_up_by_that_name_at_dispatch(self):
        self.assertIn("change_logged_models_queryset", nautobot_jobs.enqueue_job_hooks.__code__.co_names)
        self.assertIn("enqueue_job_hooks", inspect.getsource(web_request_context))
        self.assertIs(nautobot_jobs.change_logged_models_queryset, change_logged_models_queryset)

    def test_inside_one_lookup_answers_every_change_and_job_hooks_still_fire(self):
        original = nautobot_jobs.change_logged_models_queryset
        expected = set(original())
        reads = []
        real_get = cache.get

        def counting_get(key, *args, **kwargs):
            reads.append(key)
            return real_get(key, *args, **kwargs)

        with mock.patch.object(cache, "get", counting_get):
            with change_logged_models_read_once():
                with change_logged_models_read_once():  # nested: the outer one's lookup serves
                    answers = [set(nautobot_jobs.change_logged_models_queryset()) for _ in range(5)]
        self.assertEqual(answers, [expected] * 5)
        self.assertEqual(len([key for key in reads if "change_logged_models_queryset" in str(key)]), 1)
        self.assertIs(nautobot_jobs.change_logged_models_queryset, original)

        # A Job Hook on maintenances still fires for a change dispatched inside.
        populate_status_choices(apps, None)
        job = Job.objects.get(job_class_name="SyncAlertmanagerSilencesOnChange")
        job.enabled = True
        job.save()
        hook = JobHook.objects.create(name="Compat hook", job=job, type_create=True)
        hook.content_types.set([ContentType.objects.get_for_model(CircuitMaintenance)])
        user = get_user_model().objects.create_user(username="hook-user", is_superuser=True)
        start = datetime(2026, 12, 1, 2, tzinfo=timezone.utc)
        # Celery runs eagerly in tests: the hook's job runs as it is enqueued, and leaves its JobResult.
        with change_logged_models_read_once(), web_request_context(user):
            CircuitMaintenance.objects.create(
                provider=Provider.objects.create(name="Hooked Carrier"),
                maintenance_id="HOOKED",
                name="HOOKED",
                status="CONFIRMED",
                start_time=start,
                end_time=start + timedelta(hours=2),
            )
        self.assertEqual(JobResult.objects.filter(job_model=job).count(), 1)


def nautobot_release() -> tuple[int, int]:
    import nautobot

    major, minor = nautobot.__version__.split(".")[:2]
    return int(major), int(minor)


class NautobotReleaseTestCase(unittest.TestCase):
    """The lookups for what Nautobot 3.0 to 3.2 (and Django 4.2 / 5.2 under them) do differently."""

    def test_the_release_is_one_the_app_supports(self):
        # pyproject.toml says nautobot>=3.0,<3.3: a release outside it must be looked at before it is allowed.
        self.assertIn(nautobot_release(), [(3, 0), (3, 1), (3, 2)])

    def test_data_compliance_mixin_is_nautobots_and_serves_the_tab(self):
        import nautobot.apps.views
        from nautobot.core.views.mixins import NautobotViewSetMixin

        from nautobot_ssot_circuit_maintenance.views import NotificationSourceUIViewSet

        mixin = data_compliance_view_mixin()
        self.assertIs(mixin, getattr(nautobot.apps.views, "ObjectDataComplianceViewMixin", mixin))
        self.assertTrue(issubclass(mixin, NautobotViewSetMixin))
        self.assertIn("data_compliance", {action.__name__ for action in mixin.get_extra_actions()})
        self.assertIn(mixin, NotificationSourceUIViewSet.__mro__)

    def test_generic_prefetch_is_djangos_where_django_has_it(self):
        import django
        from nautobot.dcim.models import Interface

        found = generic_prefetch("destination", [Interface.objects.all()])
        if django.VERSION >= (5, 0):
            from django.contrib.contenttypes.prefetch import GenericPrefetch

            self.assertIsInstance(found, GenericPrefetch)
            self.assertEqual(found.prefetch_through, "destination")
        else:
            with self.assertRaises(ImportError):  # once Django 4.2 has it, the fallback can go
                from django.contrib.contenttypes.prefetch import GenericPrefetch  # noqa: F401
            self.assertEqual(found, "destination")

    def test_collapsed_panels_where_nautobot_has_them(self):
        from nautobot.apps.ui import Panel

        options = collapsed_panel_options()
        if nautobot_release() >= (3, 2):
            self.assertEqual(options, {"collapsed": True})
            self.assertTrue(Panel(weight=100, **options).collapsed)
        else:
            self.assertEqual(options, {})
            with self.assertRaises(TypeError):  # the keyword the fallback leaves out is still refused
                Panel(weight=100, collapsed=True)

    def test_the_request_cache_is_nautobots_where_nautobot_has_it(self):
        from nautobot.core.utils import cache as nautobot_cache

        if nautobot_release() < (3, 2):
            self.assertFalse(hasattr(nautobot_cache, "request_cache"))  # once it has it, the fallback can go
            with request_cache():
                return
        with request_cache():
            self.assertIsInstance(nautobot_cache.get_request_cache(), dict)  # a real scope: lookups answered in process
        self.assertIsNone(nautobot_cache.get_request_cache())
        # The lookups the change log makes per record go through it.
        self.assertIn("get_request_cache()", inspect.getsource(nautobot_cache.cache_get_or_set))

    def test_the_validated_object_is_found_under_the_releases_name(self):
        from nautobot.apps.models import CustomValidator

        provider = Provider(name="Validated Carrier")
        validator = CustomValidator(provider)
        self.assertIs(validated_object(validator), provider)
        # 3.1 added `obj`; 3.0 has only `object` (removed in 4.0, when this lookup can read `obj` alone).
        self.assertEqual("obj" in validator.context, nautobot_release() >= (3, 1))

    def test_job_inputs_go_where_each_entry_point_takes_them(self):
        from nautobot.apps.testing import run_job_for_testing
        from nautobot.extras.models import JobResult, ScheduledJob

        one_dict = nautobot_release() >= (3, 2)
        for function in (
            JobResult.enqueue_job,
            JobResult.execute_job,
            ScheduledJob.create_schedule,
            run_job_for_testing,
        ):
            with self.subTest(function.__qualname__):
                got = job_inputs(function, {"dryrun": False})
                self.assertEqual(got, {"job_kwargs": {"dryrun": False}} if one_dict else {"dryrun": False})
                if not one_dict:  # the inputs land in the function's **kwargs, which passes them to the job
                    kinds = {p.kind for p in inspect.signature(function).parameters.values()}
                    self.assertIn(inspect.Parameter.VAR_KEYWORD, kinds)

    def test_cable_paths_lookup_is_a_relation_of_circuit_terminations(self):
        from nautobot.circuits.models import CircuitTermination
        from nautobot.dcim.models import CablePath

        lookup = cable_paths_lookup()
        self.assertEqual(lookup, "cable_paths" if nautobot_release() >= (3, 2) else "_path")
        field = CircuitTermination._meta.get_field(lookup)
        self.assertIs(field.related_model, CablePath)
        self.assertIn("destination_id", {f.attname for f in CablePath._meta.concrete_fields})

    def test_table_panels_read_rows_the_way_the_release_lets_them(self):
        from nautobot.apps.ui import ObjectsTablePanel

        self.assertEqual(has_table_queryset_hook(), nautobot_release() >= (3, 2))
        if not has_table_queryset_hook():  # the stand-in's rows are read through `table_attribute`
            self.assertIn("getattr(instance, self.table_attribute)", inspect.getsource(ObjectsTablePanel))


def in_a_thread(function, *args):
    """`function(*args)` in another thread (as a threaded web server runs a request); its result or exception."""
    outcome: dict[str, object] = {}

    def target():
        try:
            outcome["result"] = function(*args)
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=300)
    return outcome


class RunJobHereTestCase(JobTestMixin, TransactionTestCase):
    """`run_job_here` runs a job as Nautobot's `execute_job` does, in any thread; `execute_job` needs the main one."""

    def setUp(self):
        super().setUp()
        Job.objects.filter(job_class_name__in=("CircuitMaintenanceDataSource", "ReparseDataSource")).update(
            enabled=True
        )
        self.job = Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
        self.reparse = Job.objects.get(job_class_name="ReparseDataSource")
        self.inputs = {"sources": [], "notifications": [], "dryrun": True, "memory_profiling": False}

    def test_execute_job_still_needs_the_main_thread(self):
        # Why run_job_here exists: when this stops failing, execute_job may be used from any thread again.
        inputs = job_inputs(JobResult.execute_job, self.inputs)
        outcome = in_a_thread(lambda: JobResult.execute_job(self.job, self.user, **inputs))
        self.assertIsInstance(outcome.get("error"), ValueError, outcome)
        self.assertIn("main thread", str(outcome["error"]))
        self.assertEqual(JobResult.objects.get().status, JobResultStatusChoices.STATUS_STARTED, "left STARTED for good")

    def test_runs_in_a_thread_as_execute_job_runs_in_the_main_one(self):
        reference = JobResult.execute_job(self.job, self.user, **job_inputs(JobResult.execute_job, self.inputs))
        outcome = in_a_thread(run_job_here, self.job, self.user, self.inputs)
        self.assertNotIn("error", outcome)
        ours = outcome["result"]
        ours.refresh_from_db()
        for job_result in (reference, ours):
            self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, self.job_log(job_result))
            self.assertIsNotNone(job_result.date_done)
            self.assertTrue(Sync.objects.filter(job_result=job_result).exists(), "an SSoT sync of the run")
        self.assertEqual(ours.celery_kwargs, reference.celery_kwargs)
        self.assertEqual((ours.user, ours.job_model, ours.name), (reference.user, reference.job_model, reference.name))
        self.assertEqual(ours.task_kwargs, reference.task_kwargs)

        def logged(job_result):
            return [(entry.log_level, entry.grouping) for entry in job_result.job_log_entries.order_by("created")]

        self.assertEqual(logged(ours), logged(reference), "the same job log, entry for entry")

    def test_a_failing_job_ends_failure_with_its_reason_as_with_execute_job(self):
        inputs = {**self.inputs, "since": "2026-01-02", "until": "2026-01-01"}
        reference = JobResult.execute_job(self.reparse, self.user, **job_inputs(JobResult.execute_job, inputs))
        ours = in_a_thread(run_job_here, self.reparse, self.user, inputs)["result"]
        for job_result in (reference, ours):
            self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
            self.assertIn("ValueError: 'since' (2026-01-02) is after 'until'", job_failure_text(job_result))
        self.assertEqual(ours.result, reference.result)

    def test_a_crash_around_the_job_still_ends_its_job_result(self):
        # Nothing here makes Celery's eager apply itself raise: stand in for that one part.
        with mock.patch("nautobot.extras.jobs.run_job.apply", side_effect=RuntimeError("the task could not start")):
            job_result = run_job_here(self.job, self.user, self.inputs)
        job_result.refresh_from_db()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertEqual(job_failure_text(job_result), "RuntimeError: the task could not start")
        self.assertIn("the task could not start", job_result.traceback)
        self.assertFalse(JobResult.objects.exclude(status__in=JobResultStatusChoices.READY_STATES).exists())
        self.assertEqual(job_failure_text(None), "")


class ChunkedDataSourceTestCase(unittest.TestCase):
    """compat/ssot.py re-enters nautobot-ssot's `DataSource.sync_data` per chunk and fills SyncLogEntry itself."""

    def test_sync_data_still_loads_diffs_syncs_and_times_each_pass(self):
        source = inspect.getsource(DataSource.sync_data)
        for step in ("load_source_adapter()", "load_target_adapter()", "calculate_diff()", "execute_sync()"):
            self.assertIn(step, source)
        for name in TIMING_FIELDS:
            self.assertIn(f"self.sync.{name}", source)

    def test_sync_log_takes_what_the_buffer_stores(self):
        ours = inspect.signature(ChunkedDataSource.sync_log).parameters
        theirs = inspect.signature(DataSource.sync_log).parameters
        self.assertEqual(list(ours), list(theirs))
        fields = {field.name for field in SyncLogEntry._meta.get_fields()}
        self.assertLessEqual({"sync", "action", "status", "message", "diff", "synced_object", "object_repr"}, fields)


class DeferredRunDiffTestCase(TestCase):
    """compat/ssot.py holds the run's Sync with its diff deferred: nautobot-ssot's saves leave the diff alone."""

    def test_nautobot_ssot_diffs_as_the_job_does_and_saves_the_row_whole(self):
        source = inspect.getsource(DataSource.calculate_diff)
        self.assertIn("self.source_adapter.diff_to(self.target_adapter, flags=self.diffsync_flags)", source)
        self.assertIn("self.sync.save()", inspect.getsource(DataSource.sync_data))

    def test_a_save_of_the_deferred_row_keeps_the_diff_written_beside_it(self):
        sync = Sync.objects.create(source="A", target="B", start_time=datetime.now(timezone.utc), diff={})
        held = Sync.objects.defer("diff").get(pk=sync.pk)
        Sync.objects.filter(pk=sync.pk).update(diff={"maintenance": {"x": 1}})
        held.summary = {"create": 1}
        held.save()  # as nautobot-ssot saves it, whole
        sync.refresh_from_db()
        self.assertEqual(sync.diff, {"maintenance": {"x": 1}})
        self.assertEqual(sync.summary, {"create": 1})


class ApprovalWorkflowPinTestCase(unittest.TestCase):
    """compat/approvals.py: the names of Nautobot's approval workflows that customer notices rely on (3.0 to 3.2)."""

    def test_the_mixin_hooks_and_workflow_methods_it_calls(self):
        from nautobot.apps.models import ApprovableModelMixin
        from nautobot.extras.models import ApprovalWorkflow, ApprovalWorkflowStageResponse

        from nautobot_ssot_circuit_maintenance.models import CustomerNotice

        for name in (
            "begin_approval_workflow",
            "has_approval_workflow_definition",
            "on_workflow_initiated",
            "on_workflow_approved",
            "on_workflow_denied",
            "on_workflow_canceled",
        ):
            self.assertTrue(callable(getattr(ApprovableModelMixin, name)), name)
        self.assertTrue(CustomerNotice.is_approval_workflow_model)
        self.assertEqual(list(inspect.signature(ApprovalWorkflow.cancel).parameters)[:3], ["self", "user", "comments"])
        self.assertIn("associated_approval_workflows", {f.name for f in CustomerNotice._meta.private_fields})
        fields = {f.name for f in ApprovalWorkflowStageResponse._meta.get_fields()}
        self.assertLessEqual({"approval_workflow_stage", "user", "state", "last_updated"}, fields)

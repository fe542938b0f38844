"""``seed_demo_reporting``: a plausible, idempotent reporting history for the demo institutions.

The data is seeded once per module (53 demo institutions, the default 5 quarters and 12 months,
on 2026-11-27 — OPS-M 2026-10 is open and past due, everything before is locked) inside a
transaction rolled back at the end; every test runs in a savepoint of it.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F
from django.test import override_settings

from qc_core.accounts.models import User
from qc_core.audit.models import AuditEntry
from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import LOCAL_TZ, window_for
from qc_core.indicators.services import dataset_versions, load_library
from qc_core.orgs.models import OrgUnit
from qc_core.reporting import services
from qc_core.reporting.choices import REPORTED_STATUSES, ReviewAction, SubmissionStatus
from qc_core.reporting.demo import DEMO_REPR
from qc_core.reporting.models import DataValue, ReviewEvent, Submission, ValueChange
from qc_core.reporting.progress import compute_progress
from qc_core.reporting.validation import (
    active_rules,
    blocking,
    builtin_checks,
    cells_from_values,
    rule_checks,
    validate_submission,
)
from tests.factories import OrgUnitFactory

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=LOCAL_TZ)
OUTSIDER = "HX9001"  # a real (non-demo) member institution that must stay untouched


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo_reporting", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[str]:
    """Demo institutions, the indicator library and one seeding run (output returned)."""
    settings = override_settings(
        DEMO_PASSWORD="Demo-Passw0rd!2026",
        VAR_DIR=tmp_path_factory.mktemp("demo"),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    clock = time_machine.travel(NOW, tick=False)
    with django_db_blocker.unblock(), settings, clock, transaction.atomic():
        call_command("seed_demo", units=53, stdout=io.StringIO())
        county = OrgUnit.objects.get(code="530102")
        OrgUnitFactory(code=OUTSIDER, name="真实成员医院", parent=county)
        load_library()
        yield _run()
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded: str, db: Any) -> Iterator[str]:
    with time_machine.travel(NOW, tick=False):
        yield seeded


def _snapshot_of_tables() -> dict[str, Any]:
    return {
        "submissions": Submission.objects.count(),
        "values": DataValue.objects.count(),
        "events": ReviewEvent.objects.count(),
        "changes": ValueChange.objects.count(),
        "audit": AuditEntry.objects.count(),
        "numbers": sorted(
            DataValue.objects.values_list("submission__org_unit__code", "indicator__code",
                                          "submission__period", "numerator", "denominator")
        ),
    }  # fmt: skip


def test_second_run_creates_nothing_and_changes_nothing(demo: str) -> None:
    before = _snapshot_of_tables()

    output = _run()

    assert _snapshot_of_tables() == before
    assert "0 demo submissions created" in output
    assert AuditEntry.objects.filter(object_repr=DEMO_REPR, action="create").count() == 1


def test_first_run_covers_five_quarters_and_twelve_months_of_every_demo_unit(demo: str) -> None:
    pairs = set(Submission.objects.values_list("dataset__code", "period"))
    assert Counter(code for code, _period in pairs) == {"GER-Q": 5, "OPS-M": 12}
    units = set(Submission.objects.values_list("org_unit__code", flat=True))
    assert len(units) == 53 and all(code.startswith("DEMO") for code in units)
    entry = AuditEntry.objects.get(object_repr=DEMO_REPR)
    assert entry.extra["submissions"] == Submission.objects.count()


def test_non_demo_units_are_never_touched(demo: str) -> None:
    assert not Submission.objects.filter(org_unit__is_demo=False).exists()
    assert not Submission.objects.filter(org_unit__code=OUTSIDER).exists()
    with pytest.raises(CommandError, match=OUTSIDER):
        _run("--unit", OUTSIDER)


def test_values_pass_the_built_in_checks_and_the_cross_indicator_rules(demo: str) -> None:
    pairs = {ds.pk: dataset_versions(ds) for ds in DataSet.objects.all()}
    by_submission: dict[int, list[DataValue]] = defaultdict(list)
    for value in DataValue.objects.all():
        by_submission[value.submission_id].append(value)
    errors = []
    for sub in Submission.objects.select_related("dataset"):
        cells = cells_from_values(sub, by_submission[sub.pk], pairs=pairs[sub.dataset_id])
        for_submit = sub.status in REPORTED_STATUSES
        found = [r for c in cells.values() for r in builtin_checks(c, for_submit=for_submit)]
        found += rule_checks(cells, active_rules(sub))
        errors += [
            (sub.org_unit_id, sub.period, r["code"]) for r in found if r["severity"] != "notice"
        ]
    assert errors == []
    integer_only = DataValue.objects.filter(indicator_version__integer_only=True)
    assert all(v.numerator == v.numerator.to_integral_value() for v in integer_only)


def test_reported_forms_of_recent_periods_would_pass_the_submit_checks(demo: str) -> None:
    """GIVEN the statistical checks (history, peers, jumps) THEN every reported form carries the
    justifications they require, and the deliberate outliers show as justified warnings."""
    recent = Submission.objects.filter(
        status__in=REPORTED_STATUSES, period__in=["2026Q3", "2026-10", "2026-07"]
    ).select_related("dataset", "org_unit")
    justified = []
    for sub in recent:
        results = validate_submission(sub, for_submit=True)
        assert blocking(results) == [], (sub.org_unit.code, sub.period)
        justified += [(sub.org_unit.code, r["indicator"]) for r in results if r.get("justified")]
    assert ("DEMO029", "OPS-03") in justified  # bed occupancy with extra beds, awaiting review
    assert ("DEMO021", "OPS-09") in justified  # CMI of a month with many severe cases


def test_open_month_shows_on_time_late_draft_and_missing_units(demo: str) -> None:
    ops = DataSet.objects.get(code="OPS-M")

    progress = compute_progress(ops, "2026-10")

    demo_units = [u for u in progress.units if u.code.startswith("DEMO")]
    assert len(demo_units) == 53
    on_time = sum(u.submitted_on_time for u in demo_units)
    late = sum(u.submitted and not u.submitted_on_time for u in demo_units)
    missing = sum(u.status is None for u in demo_units)
    drafts = sum(u.status == SubmissionStatus.DRAFT for u in demo_units)
    assert 0.5 <= on_time / 53 <= 0.7
    assert late >= 3
    assert 3 <= missing <= 15
    assert 1 <= drafts <= 8
    assert {u.status for u in demo_units} >= {"approved", "submitted", "returned", "draft"}
    assert progress.total.late >= late + missing  # past due: the missing ones are late too


def test_locked_quarter_is_mostly_approved_inside_its_window(demo: str) -> None:
    ger = DataSet.objects.get(code="GER-Q")
    window = window_for(ger, "2026Q3")
    subs = list(Submission.objects.filter(dataset=ger, period="2026Q3"))

    approved = [s for s in subs if s.status == SubmissionStatus.APPROVED]
    assert len(approved) >= 0.9 * len(subs)
    for sub in approved:
        assert window.opens_at <= sub.created_at <= sub.first_submitted_at  # type: ignore[operator]
        assert sub.first_submitted_at <= sub.last_submitted_at < sub.approved_at <= window.lock_at  # type: ignore[operator]
    late = [s for s in subs if s.first_submitted_at > window.due_at]  # type: ignore[operator]
    assert 3 <= len(late) <= 10


def test_returned_forms_were_corrected_and_resubmitted_with_their_history(demo: str) -> None:
    returns = ReviewEvent.objects.filter(action=ReviewAction.RETURN).select_related("submission")
    resubmitted = [e for e in returns if e.submission.events.filter(action="resubmit").exists()]
    assert len(resubmitted) >= 5
    for event in resubmitted:
        actions = list(event.submission.events.values_list("action", flat=True))
        assert actions[:3] == ["submit", "return", "resubmit"]
        code = event.items[0]["indicator"]
        final = event.submission.events.get(action="resubmit").snapshot[code]
        assert event.snapshot[code] != final
        change = ValueChange.objects.get(submission=event.submission)
        assert change.value.indicator.code == code
    assert services.changes_since_return(resubmitted[0].submission)


def test_values_are_tied_to_a_version_of_their_own_indicator(demo: str) -> None:
    assert DataValue.objects.exists()
    assert not DataValue.objects.exclude(indicator_version__indicator=F("indicator")).exists()


def test_reporter01_can_continue_an_open_draft(demo: str) -> None:
    reporter = User.objects.get(username="reporter01")
    draft = Submission.objects.get(
        org_unit__code="DEMO001", dataset__code="OPS-M", period="2026-10"
    )
    assert draft.status == SubmissionStatus.DRAFT
    assert services.edit_block_reason(draft) is None
    missing = DataSet.objects.get(code="OPS-M").items.exclude(
        indicator__in=draft.values.values("indicator")
    )
    assert missing.exists()

    result = services.save_values(draft, [{"indicator": "OPS-01", "numerator": 3210}], reporter)

    assert result.updated + result.created == 1


def test_kunming_subcenter_finds_a_form_waiting_for_review(demo: str) -> None:
    from qc_core.accounts.scope import scope_queryset

    subcenter = User.objects.get(username="subcenter_admin")
    waiting = scope_queryset(
        Submission.objects.filter(period="2026-10", status=SubmissionStatus.SUBMITTED), subcenter
    )
    assert waiting.filter(org_unit__code="DEMO017").exists()


def test_refuses_in_production_without_the_flag(demo: str, settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="allow-production"):
        _run()

"""The review workflow through the services: permissions per persona, transitions, timestamps,
sub-center review, return and resubmission diff, immutability after approval, reopen, lock,
optimistic locking, notifications and audit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from qc_core.audit.models import AuditEntry
from qc_core.indicators.periods import LOCAL_TZ
from qc_core.notify.models import Notification
from qc_core.reporting import services
from qc_core.reporting.errors import ConflictError, InputError, NotEditable, WorkflowError
from qc_core.reporting.models import ReviewEvent, ValueChange
from qc_core.system import clock
from tests.factories import OrgUnitFactory, RoleAssignmentFactory, UserFactory
from tests.reporting.conftest import good_values

pytestmark = pytest.mark.django_db


def test_reporter_fills_and_submits_and_timestamps_are_kept(qc, time_machine):
    p = qc.p
    sub, created = services.get_or_create_draft(p.tree.hospital_a, qc.ger, "2026Q3", p.reporter_a)
    assert created and sub.status == "draft"
    services.save_values(sub, good_values(), p.reporter_a)
    services.submit(sub, p.reporter_a)
    sub.refresh_from_db()
    first = sub.first_submitted_at
    assert sub.status == "submitted" and first == clock.now() and sub.last_submitted_at == first
    services.return_submission(sub, p.center, "请核对跌倒数据")
    time_machine.move_to(datetime(2026, 10, 8, 9, 0, tzinfo=LOCAL_TZ), tick=False)
    services.submit(sub, p.reporter_a)
    sub.refresh_from_db()
    assert sub.first_submitted_at == first and sub.last_submitted_at == clock.now()
    services.approve(sub, p.center)
    sub.refresh_from_db()
    assert (
        sub.status == "approved" and sub.approved_by == p.center and sub.approved_at == clock.now()
    )
    actions = list(sub.events.values_list("action", flat=True))
    assert actions == ["submit", "return", "resubmit", "approve"]


@pytest.mark.parametrize(
    "persona", ["reporter_b", "leader_a", "official", "subcenter", "expert", "engineer", "nobody"]
)
def test_only_the_units_reporters_and_center_admins_write_values(qc, persona):
    sub = qc.draft()
    user = getattr(qc.p, persona)
    with pytest.raises(PermissionDenied):
        services.save_values(
            sub, [{"indicator": "GER-P01", "numerator": 1, "denominator": 2}], user
        )
    with pytest.raises(PermissionDenied):
        services.get_or_create_draft(qc.p.tree.hospital_a, qc.ger, "2026Q3", user)
    assert not sub.values.exists()


def test_center_admin_may_enter_data_on_behalf_of_a_unit(qc):
    sub = qc.draft()
    services.save_values(
        sub, [{"indicator": "GER-P01", "numerator": 1, "denominator": 2}], qc.p.center
    )
    assert sub.values.get().updated_by == qc.p.center


@pytest.mark.parametrize(
    "persona", ["reporter_a", "reporter_b", "leader_a", "official", "expert", "nobody"]
)
def test_reporters_and_readers_can_never_approve_or_return(qc, persona):
    sub = qc.submitted()
    user = getattr(qc.p, persona)
    with pytest.raises(PermissionDenied):
        services.approve(sub, user)
    with pytest.raises(PermissionDenied):
        services.return_submission(sub, user, "不行")
    sub.refresh_from_db()
    assert sub.status == "submitted"


def test_subcenter_acts_only_inside_its_prefecture(qc):
    in_kunming = qc.submitted(qc.p.tree.hospital_a)
    in_dali = qc.submitted(qc.p.tree.hospital_b)
    with pytest.raises(PermissionDenied):
        services.approve(in_dali, qc.p.subcenter)
    with pytest.raises(PermissionDenied):
        services.return_submission(in_dali, qc.p.subcenter, "越权")
    services.approve(in_kunming, qc.p.subcenter)
    in_kunming.refresh_from_db()
    assert in_kunming.status == "approved"


def test_subcenter_review_path(qc):
    qc.ger.subcenter_review = True
    qc.ger.save()
    sub = qc.submitted()
    services.approve(sub, qc.p.subcenter, "数据已核对")
    sub.refresh_from_db()
    assert (
        sub.status == "reviewed" and sub.reviewed_by == qc.p.subcenter and sub.approved_at is None
    )
    with pytest.raises(WorkflowError, match="等待省质控中心审核"):
        services.approve(sub, qc.p.subcenter)
    with pytest.raises(WorkflowError):
        services.return_submission(sub, qc.p.subcenter, "再看看")
    assert Notification.objects.filter(user=qc.p.center, event="submission.reviewed").exists()
    services.approve(sub, qc.p.center)
    sub.refresh_from_db()
    assert sub.status == "approved"
    assert list(sub.events.values_list("action", flat=True)) == [
        "submit",
        "subcenter_approve",
        "approve",
    ]


def test_with_subcenter_review_the_center_may_still_return_a_reviewed_form(qc):
    qc.ger.subcenter_review = True
    qc.ger.save()
    sub = qc.submitted()
    services.approve(sub, qc.p.subcenter)
    services.return_submission(sub, qc.p.center, "与去年差异过大")
    sub.refresh_from_db()
    assert sub.status == "returned"


def test_returned_form_can_be_edited_and_the_reviewer_sees_what_changed(qc):
    sub = qc.submitted()
    items = [{"indicator": "GER-O01", "reason": "跌倒例次与护理上报系统不一致"}]
    services.return_submission(sub, qc.p.subcenter, "请核对", items)
    sub.refresh_from_db()
    assert sub.status == "returned" and sub.returned_at is not None
    assert sub.events.get(action="return").items == items
    services.save_values(
        sub, [{"indicator": "GER-O01", "numerator": 4, "comment": "补录 1 例"},
              {"indicator": "GER-O02", "denominator": 4}],
        qc.p.reporter_a,
    )  # fmt: skip
    services.submit(sub, qc.p.reporter_a)
    diff = services.changes_since_return(sub)
    assert {(d["indicator"], d["field"], d["old"], d["new"]) for d in diff} == {
        ("GER-O01", "numerator", "3", "4"),
        ("GER-O01", "comment", "", "补录 1 例"),
        ("GER-O02", "denominator", "3", "4"),
    }


def test_return_needs_a_reason_and_known_indicators(qc):
    sub = qc.submitted()
    with pytest.raises(InputError, match="退回原因"):
        services.return_submission(sub, qc.p.center, "  ")
    with pytest.raises(InputError, match="GER-X99"):
        services.return_submission(
            sub, qc.p.center, "请核对", [{"indicator": "GER-X99", "reason": "?"}]
        )
    sub.refresh_from_db()
    assert sub.status == "submitted"


def test_submitted_form_cannot_be_edited_until_returned(qc):
    sub = qc.submitted()
    with pytest.raises(NotEditable, match="正在审核"):
        services.save_values(sub, [{"indicator": "GER-P01", "numerator": 1}], qc.p.reporter_a)
    with pytest.raises(WorkflowError):
        services.submit(sub, qc.p.reporter_a)


def test_approved_data_cannot_be_changed_by_anyone_through_the_service(qc):
    sub = qc.submitted()
    services.approve(sub, qc.p.center)
    for user in (qc.p.reporter_a, qc.p.center, None):
        with pytest.raises(NotEditable, match="已审核通过"):
            services.save_values(sub, [{"indicator": "GER-P01", "numerator": 1}], user)
    assert sub.values.get(indicator__code="GER-P01").numerator == 40


def test_only_center_admins_reopen_and_reopen_is_audited(qc):
    sub = qc.submitted()
    services.approve(sub, qc.p.center)
    until = clock.now() + timedelta(days=3)
    for user in (qc.p.subcenter, qc.p.reporter_a, qc.p.official):
        with pytest.raises(PermissionDenied):
            services.reopen(sub, user, until, "更正")
    with pytest.raises(InputError, match="原因"):
        services.reopen(sub, qc.p.center, until, "")
    services.reopen(sub, qc.p.center, until, "医院更正压力性损伤数据")
    sub.refresh_from_db()
    assert sub.status == "draft" and sub.reopened_until == until
    entry = AuditEntry.objects.filter(
        object_type="reporting.submission", extra__workflow="reopen"
    ).get()
    assert entry.actor == qc.p.center and entry.extra["reason"] == "医院更正压力性损伤数据"
    assert entry.changes["status"] == ["approved", "draft"]
    services.save_values(sub, [{"indicator": "GER-O03", "numerator": 2}], qc.p.reporter_a)
    services.submit(sub, qc.p.reporter_a)
    sub.refresh_from_db()
    assert sub.status == "submitted" and sub.reopened_until is None


def test_window_not_open_and_lock_refuse_edits_until_reopened(qc, time_machine):
    with pytest.raises(WorkflowError, match="尚未结束"):
        services.get_or_create_draft(qc.p.tree.hospital_a, qc.ger, "2026Q4", qc.p.reporter_a)
    sub = qc.filled()
    time_machine.move_to(datetime(2026, 10, 31, 0, 0, 1, tzinfo=LOCAL_TZ), tick=False)
    with pytest.raises(NotEditable, match="锁定"):
        services.save_values(sub, [{"indicator": "GER-P01", "numerator": 1}], qc.p.reporter_a)
    with pytest.raises(NotEditable):
        services.submit(sub, qc.p.reporter_a)
    services.reopen(sub, qc.p.center, clock.now() + timedelta(days=2), "补报")
    services.save_values(sub, [{"indicator": "GER-P01", "numerator": 41}], qc.p.reporter_a)
    time_machine.move_to(datetime(2026, 11, 3, tzinfo=LOCAL_TZ), tick=False)
    with pytest.raises(NotEditable):
        services.save_values(sub, [{"indicator": "GER-P01", "numerator": 42}], qc.p.reporter_a)


def test_a_late_return_leaves_a_week_to_fix(qc, time_machine):
    sub = qc.submitted()
    time_machine.move_to(datetime(2026, 10, 29, 12, 0, tzinfo=LOCAL_TZ), tick=False)
    services.return_submission(sub, qc.p.center, "请补充说明")
    time_machine.move_to(datetime(2026, 11, 4, 12, 0, tzinfo=LOCAL_TZ), tick=False)
    services.save_values(sub, [{"indicator": "GER-P01", "comment": "已补充"}], qc.p.reporter_a)
    services.submit(sub, qc.p.reporter_a)


def test_concurrent_edit_is_refused_with_optimistic_locking(qc):
    sub = qc.draft()
    first = services.save_values(sub, [{"indicator": "GER-P01", "numerator": 1}], qc.p.reporter_a,
                                 expected_version=0)  # fmt: skip
    assert first.submission.row_version == 1
    with pytest.raises(ConflictError) as conflict:
        services.save_values(sub, [{"indicator": "GER-P01", "numerator": 2}], qc.p.center,
                             expected_version=0)  # fmt: skip
    assert conflict.value.current_version == 1
    assert sub.values.get().numerator == 1


def test_value_history_records_who_changed_what(qc):
    sub = qc.draft()
    services.save_values(
        sub, [{"indicator": "GER-P01", "numerator": 1, "denominator": 10}], qc.p.reporter_a
    )
    services.save_values(sub, [{"indicator": "GER-P01", "numerator": 2}], qc.p.center, "import")
    services.save_values(sub, [{"indicator": "GER-P01", "numerator": 2}], qc.p.center)  # no change
    changes = list(ValueChange.objects.filter(submission=sub).order_by("id"))
    assert [(c.changed_by, c.old_numerator, c.new_numerator, c.source) for c in changes] == [
        (qc.p.reporter_a, None, 1, "web"),
        (qc.p.center, 1, 2, "import"),
    ]
    entries = AuditEntry.objects.filter(object_type="reporting.submission", action="update")
    assert entries.filter(changes__has_key="GER-P01.numerator").count() == 2


def test_malformed_input_saves_nothing_and_names_the_indicator(qc):
    sub = qc.draft()
    with pytest.raises(InputError) as bad:
        services.save_values(
            sub,
            [{"indicator": "GER-P01", "numerator": 5, "denominator": 10},
             {"indicator": "GER-P02", "numerator": "十二"},
             {"indicator": "GER-S01", "numerator": 4, "denominator": 5},
             {"indicator": "OPS-01", "numerator": 4}],
            qc.p.reporter_a,
        )  # fmt: skip
    messages = [e["message"] for e in bad.value.errors]
    assert any("GER-P02 分子" in m and "不是数字" in m for m in messages)
    assert any("GER-S01 是计数型指标" in m for m in messages)
    assert any("OPS-01" in m and "不在报表" in m for m in messages)
    assert not sub.values.exists()


def test_transitions_notify_the_people_concerned(qc):
    sub = qc.submitted()
    assert Notification.objects.filter(user=qc.p.subcenter, event="submission.submitted").exists()
    assert Notification.objects.filter(user=qc.p.center, event="submission.submitted").exists()
    assert not Notification.objects.filter(user=qc.p.reporter_b).exists()
    services.return_submission(
        sub, qc.p.center, "请核对", [{"indicator": "GER-O01", "reason": "偏高"}]
    )
    note = Notification.objects.get(user=qc.p.reporter_a, event="submission.returned")
    assert "请核对" in note.body and "GER-O01：偏高" in note.body
    assert note.url.startswith("/qc/")
    services.submit(sub, qc.p.reporter_a)
    services.approve(sub, qc.p.center)
    assert Notification.objects.filter(user=qc.p.reporter_a, event="submission.approved").exists()
    services.reopen(sub, qc.p.center, clock.now() + timedelta(days=1), "更正")
    assert Notification.objects.filter(user=qc.p.reporter_a, event="submission.reopened").exists()


def test_every_transition_is_audited_with_the_actor(qc):
    sub = qc.submitted()
    services.return_submission(sub, qc.p.subcenter, "请核对")
    services.submit(sub, qc.p.reporter_a)
    services.approve(sub, qc.p.center)
    flows = list(
        AuditEntry.objects.filter(object_type="reporting.submission", extra__has_key="workflow")
        .order_by("id")
        .values_list("extra__workflow", "actor__username")
    )
    assert flows == [
        ("submit", None),
        ("return", "subcenter"),
        ("resubmit", "reporter_a"),
        ("approve", "center"),
    ]
    assert ReviewEvent.objects.filter(submission=sub).count() == 4


def test_expected_units_respect_membership_dates(qc):
    from datetime import date

    left = OrgUnitFactory(
        code="HL001", parent=qc.p.tree.wuhua, member_until=date(2026, 8, 31), is_member=False
    )
    left_later = OrgUnitFactory(
        code="HL002", parent=qc.p.tree.wuhua, member_until=date(2026, 12, 31), is_member=False
    )
    joined_late = OrgUnitFactory(
        code="HJ001", parent=qc.p.tree.wuhua, member_since=date(2026, 10, 2)
    )
    closed = OrgUnitFactory(code="HZ001", parent=qc.p.tree.wuhua, is_active=False)
    qc.ger.units.add(left, left_later, joined_late, closed)
    expected = set(services.expected_units(qc.ger, "2026Q3").values_list("code", flat=True))
    assert expected == {"HA001", "HB001", "HL002"}
    assert "HJ001" in set(services.expected_units(qc.ger, "2026Q4").values_list("code", flat=True))


def test_unassigned_units_cannot_open_a_form(qc):
    unit = OrgUnitFactory(code="HN001", parent=qc.p.tree.wuhua)
    reporter = UserFactory(username="reporter_n")
    RoleAssignmentFactory(user=reporter, role="unit_reporter", org_unit=unit)
    with pytest.raises(WorkflowError, match="未被分配"):
        services.get_or_create_draft(unit, qc.ger, "2026Q3", reporter)


def test_values_keep_the_version_they_were_saved_under(qc):
    from qc_core.indicators.models import Indicator
    from qc_core.indicators.services import revise_indicator

    sub = qc.filled()
    indicator = Indicator.objects.get(code="GER-P01")
    revise_indicator(
        indicator, {"numerator_def": "入院24小时内完成CGA的人数"}, qc.p.center, "时间窗调整"
    )
    value = sub.values.get(indicator=indicator)
    assert value.indicator_version.version == 1
    services.save_values(sub, [{"indicator": "GER-P01", "numerator": 41}], qc.p.reporter_a)
    value.refresh_from_db()
    assert value.indicator_version.version == 2

"""Rosters and special-duty periods: saving them and generating their shifts.

Generation is a diff: the slots a rotation wants from *now* on are compared with the rows it
already has; rows no longer wanted are deleted, missing ones inserted. A shift in progress is
never touched (editing a roster changes future shifts only), so re-running is a no-op and the
hourly coverage task simply extends each regular roster to its horizon.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from ops_portal.access import is_ops_manager, is_ops_staff
from ops_portal.choices import ShiftRole
from ops_portal.errors import ActionForbidden, TicketError
from ops_portal.models import DutyMember, DutyPeriod, Roster, RosterMember, Shift
from ops_portal.oncall.choices import ShiftSource
from qc_core.audit.choices import Action
from qc_core.audit.services import record
from qc_core.system import clock

# The coverage check looks 14 days ahead; regular rosters always reach a day beyond that.
COVERAGE_DAYS = 14
MIN_HORIZON = timedelta(days=COVERAGE_DAYS + 1)


@dataclass(frozen=True)
class Slot:
    role: str
    user: Any
    start: datetime
    end: datetime

    @property
    def key(self) -> tuple[str, datetime, datetime, int]:
        return (self.role, self.start, self.end, self.user.pk)


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def handover_at(day: date, rotation: Any) -> datetime:
    """The handover instant on local ``day``."""
    return datetime.combine(day, rotation.handover_time, tzinfo=local_zone())


def rotation_slots(
    epoch: datetime,
    length: timedelta,
    members: Sequence[Any],
    offset: int,
    start: datetime,
    end: datetime,
) -> Iterator[Slot]:
    """Slots k ≥ 0 of a rotation beginning at ``epoch`` that overlap [start, end): slot k runs
    [epoch + k·length, epoch + (k+1)·length), primary = members[k mod n], secondary =
    members[(k + offset) mod n] (none when the offset lands on the primary)."""
    n = len(members)
    if n == 0:
        return
    k = max(0, int((start - epoch) // length))
    while epoch + k * length < end:
        slot_start = epoch + k * length
        slot_end = slot_start + length
        if slot_end > start:
            yield Slot(ShiftRole.PRIMARY, members[k % n], slot_start, slot_end)
            if offset % n:
                yield Slot(ShiftRole.SECONDARY, members[(k + offset) % n], slot_start, slot_end)
        k += 1


def roster_horizon(roster: Roster, now: datetime) -> datetime:
    return now + max(timedelta(weeks=roster.weeks_ahead), MIN_HORIZON)


def _wanted_roster(roster: Roster, now: datetime) -> list[Slot]:
    if not roster.is_active:
        return []
    members = [m.user for m in roster.members.select_related("user").order_by("position")]
    length = timedelta(hours=roster.shift_hours)
    epoch = handover_at(roster.starts_on, roster)
    return list(
        rotation_slots(
            epoch, length, members, roster.secondary_offset, now, roster_horizon(roster, now)
        )
    )


def _wanted_period(period: DutyPeriod, now: datetime) -> list[Slot]:
    if not period.is_active or period.end <= now:
        return []
    members = [m.user for m in period.members.select_related("user").order_by("position")]
    length = timedelta(hours=period.shift_hours)
    # The rotation's first slot is the one containing the period's start: its epoch is the
    # handover on the start's local day, moved back by whole shifts until it is not later.
    epoch = handover_at(period.start.astimezone(local_zone()).date(), period)
    while epoch > period.start:
        epoch -= length
    while epoch + length <= period.start:
        epoch += length
    slots = rotation_slots(
        epoch, length, members, period.secondary_offset, max(now, period.start), period.end
    )
    return [Slot(s.role, s.user, max(s.start, period.start), min(s.end, period.end)) for s in slots]


@dataclass(frozen=True)
class SyncResult:
    created: int
    removed: int


def _sync(
    owner_field: str, owner: Any, source: str, wanted: list[Slot], now: datetime
) -> SyncResult:
    """Make ``owner``'s future shifts match ``wanted`` (clipped to start at ``now``), leaving
    shifts in progress alone and starting after them."""
    existing = list(Shift.objects.filter(**{owner_field: owner}, end__gt=now))
    running = [s for s in existing if s.start < now]
    future = {(s.role, s.start, s.end, s.user_id): s for s in existing if s.start >= now}
    floor = dict.fromkeys(ShiftRole.values, now)
    for shift in running:
        floor[shift.role] = max(floor[shift.role], shift.end)
    desired: dict[tuple[str, datetime, datetime, int], Slot] = {}
    for slot in wanted:
        start = max(slot.start, floor[slot.role])
        if start < slot.end:
            clipped = Slot(slot.role, slot.user, start, slot.end)
            desired[clipped.key] = clipped
    stale = [s.pk for key, s in future.items() if key not in desired]
    if stale:
        # One by one through the ORM so each removal lands in the audit trail.
        for shift in Shift.objects.filter(pk__in=stale):
            shift.delete()
    fresh = [
        Shift(
            user=s.user,
            role=s.role,
            start=s.start,
            end=s.end,
            source=source,
            **{owner_field: owner},
        )
        for key, s in desired.items()
        if key not in future
    ]
    # A concurrent run may have inserted the same slot: the unique constraint drops the double.
    Shift.objects.bulk_create(fresh, ignore_conflicts=True)
    return SyncResult(created=len(fresh), removed=len(stale))


def generate_roster(
    roster: Roster, now: datetime | None = None, *, actor: Any = None
) -> SyncResult:
    """(Re)generate a regular roster's shifts from now to its horizon (idempotent)."""
    now = now or clock.now()
    with transaction.atomic():
        roster = Roster.objects.select_for_update().get(pk=roster.pk)
        result = _sync("roster", roster, ShiftSource.ROSTER, _wanted_roster(roster, now), now)
        roster.generated_until = roster_horizon(roster, now) if roster.is_active else None
        Roster.objects.filter(pk=roster.pk).update(generated_until=roster.generated_until)
        _record_generation(roster, result, actor)
    return result


def generate_period(
    period: DutyPeriod, now: datetime | None = None, *, actor: Any = None
) -> SyncResult:
    """(Re)generate a special-duty period's shifts from now to the period's end."""
    now = now or clock.now()
    with transaction.atomic():
        period = DutyPeriod.objects.select_for_update().get(pk=period.pk)
        result = _sync(
            "duty_period", period, ShiftSource.SPECIAL_DUTY, _wanted_period(period, now), now
        )
        _record_generation(period, result, actor)
    return result


def extend_all(now: datetime | None = None) -> SyncResult:
    """Bring every active roster up to its horizon (the hourly coverage task calls this)."""
    now = now or clock.now()
    created = removed = 0
    for roster in Roster.objects.filter(is_active=True).order_by("pk"):
        result = generate_roster(roster, now)
        created += result.created
        removed += result.removed
    return SyncResult(created, removed)


def _record_generation(owner: Any, result: SyncResult, actor: Any) -> None:
    # Inserted shifts are bulk-written: one summary entry says what generation changed.
    if result.created or result.removed:
        record(
            Action.UPDATE,
            user=actor,
            obj=owner,
            extra={"shifts_created": result.created, "shifts_removed": result.removed},
        )


# --- saving rosters and periods -----------------------------------------------------------------


def _require_manager(actor: Any) -> None:
    if not is_ops_manager(actor):
        raise ActionForbidden(_("只有运维负责人可以编排值班表和专项值守。"))


def check_members(users: Sequence[Any]) -> None:
    """Members must be active operations staff, each listed once."""
    if not users:
        raise TicketError(_("成员：至少需要一名值班人员。"), "members")
    seen: set[int] = set()
    for index, user in enumerate(users, start=1):
        if user.pk in seen:
            raise TicketError(
                _("成员第 %(n)d 位：%(name)s 重复出现。")
                % {"n": index, "name": user.get_full_name()},
                "members",
            )
        seen.add(user.pk)
        if not is_ops_staff(user):
            raise TicketError(
                _("成员第 %(n)d 位：%(name)s 不是在职的运维工程师或运维负责人。")
                % {"n": index, "name": user.get_full_name()},
                "members",
            )


def _check_rotation(values: dict[str, Any]) -> None:
    hours = values.get("shift_hours") or 0
    if not 1 <= int(hours) <= 168:
        raise TicketError(_("班次时长：须在 1 到 168 小时之间。"), "shift_hours")


ROSTER_FIELDS = (
    "name",
    "shift_hours",
    "handover_time",
    "secondary_offset",
    "note",
    "starts_on",
    "weeks_ahead",
    "is_active",
)
PERIOD_FIELDS = (
    "name",
    "kind",
    "start",
    "end",
    "shift_hours",
    "handover_time",
    "secondary_offset",
    "note",
    "is_active",
)


def save_roster(
    actor: Any, values: dict[str, Any], members: Sequence[Any], roster: Roster | None = None
) -> Roster:
    """Create or edit a regular roster (ops manager only) and regenerate its future shifts."""
    _require_manager(actor)
    _check_rotation(values)
    check_members(members)
    now = clock.now()
    with transaction.atomic():
        roster = roster or Roster(created_by=actor, created_at=now)
        for name in ROSTER_FIELDS:
            if name in values:
                setattr(roster, name, values[name])
        roster.updated_at = now
        roster.save()
        _replace_members(RosterMember, "roster", roster, members)
        generate_roster(roster, now, actor=actor)
    roster.refresh_from_db()
    return roster


def save_period(
    actor: Any, values: dict[str, Any], members: Sequence[Any], period: DutyPeriod | None = None
) -> DutyPeriod:
    """Create or edit a special-duty period (ops manager only) and regenerate its future shifts."""
    _require_manager(actor)
    _check_rotation(values)
    check_members(members)
    start, end = values.get("start"), values.get("end")
    if start is None or end is None or end <= start:
        raise TicketError(_("结束时间：必须晚于开始时间。"), "end")
    now = clock.now()
    with transaction.atomic():
        period = period or DutyPeriod(created_by=actor, created_at=now)
        for name in PERIOD_FIELDS:
            if name in values:
                setattr(period, name, values[name])
        period.updated_at = now
        period.save()
        _replace_members(DutyMember, "period", period, members)
        generate_period(period, now, actor=actor)
    period.refresh_from_db()
    return period


def _replace_members(model: Any, owner_field: str, owner: Any, users: Sequence[Any]) -> None:
    current = [m.user_id for m in model.objects.filter(**{owner_field: owner}).order_by("position")]
    if current == [u.pk for u in users]:
        return
    for member in model.objects.filter(**{owner_field: owner}):
        member.delete()
    for position, user in enumerate(users):
        model.objects.create(**{owner_field: owner}, user=user, position=position)

"""``sla_tick``: warnings, breach notices and escalation steps, each fired exactly once.

Every notice is claimed before it is sent — warnings and breaches with a conditional UPDATE of
their claim column (``… WHERE claim IS NULL RETURNING id``: only the rows this run changed are
announced), escalation steps by inserting their :class:`EscalationFiring` row under a unique
constraint — and claim, ledger entry and notification commit together. Two schedulers running at
once therefore never double-notify, and a notice that fails is handed back for the next tick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from ops_portal import events as ops_events
from ops_portal import oncall
from ops_portal.choices import (
    TRIGGER_LEVEL,
    Clause,
    EscalationTarget,
    EscalationTrigger,
    EventKind,
    ShiftRole,
)
from ops_portal.models import EscalationFiring, EscalationStep, SlaClock, Ticket, TicketEvent
from ops_portal.services import common
from ops_portal.services.policies import escalation_steps
from ops_portal.services.sla import next_escalation
from qc_core.accounts.choices import Role
from qc_core.notify.services import notify
from qc_core.system import clock

logger = logging.getLogger(__name__)

RUNNING = Q(met_at__isnull=True, stopped_at__isnull=True, paused_since__isnull=True)

# (level, claim column, threshold column); the breach comes first so that a clock found past
# several thresholds at once (after scheduler downtime) announces only the highest one.
LEVELS = (
    (3, "breach_notified_at", "due_at"),
    (2, "warned_80_at", "warn_80_due"),
    (1, "warned_50_at", "warn_50_due"),
)


@dataclass
class TickResult:
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    silent: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "warnings": self.warnings,
            "breaches": self.breaches,
            "escalations": self.escalations,
            "silent": self.silent,
            "errors": self.errors,
        }


# Claims are taken and announced in chunks: one claiming UPDATE, one load and one ledger insert
# per chunk. A chunk's transaction stays short so web requests are not held up.
CHUNK = 100


def run_sla_tick(now: datetime | None = None) -> TickResult:
    """Evaluate every running clock once (the ``sla_tick`` command and the beat task)."""
    now = now or clock.now()
    result = TickResult()
    tick = _Tick(now)
    for level, claim, threshold in LEVELS:
        passed = {f"{threshold}__lt" if level == 3 else f"{threshold}__lte": now}  # see _passed
        pending = SlaClock.objects.filter(RUNNING, **{f"{claim}__isnull": True}, **passed)
        for chunk in _chunks(list(pending.values_list("pk", flat=True))):
            _guarded(result, _claim_thresholds, chunk, level, claim, tick)
    due = SlaClock.objects.filter(RUNNING, next_escalation_at__lte=now)
    for chunk in _chunks(list(due.values_list("pk", flat=True))):
        _guarded(result, _escalate_chunk, chunk, tick)
    return result


class _Tick:
    """Per-run caches: escalation steps per clause, who is on call (one instant per run)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.steps: dict[str, list[EscalationStep]] = {}
        self.on_call: dict[str, Any] = {}

    def current(self, role: str) -> Any:
        if role not in self.on_call:
            self.on_call[role] = oncall.current(role, self.now)
        return self.on_call[role]


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _passed(threshold: datetime, level: int, now: datetime) -> bool:
    """A warning threshold is crossed at its instant; a breach only once the due instant is over."""
    return threshold < now if level == 3 else threshold <= now


def _guarded(result: TickResult, func: Any, *args: Any) -> None:
    try:
        func(result, *args)
    except Exception as exc:  # one bad chunk must not stop the others' notices
        logger.exception("sla_tick: %s failed", func.__name__)
        result.errors.append(f"{func.__name__}: {exc}")


def _claim(ids: list[int], claim: str, now: datetime, breach: bool) -> list[int]:
    """Conditionally set ``claim`` on the rows where it is still empty; return the ids this call
    claimed (a concurrent run gets the others). ``UPDATE … RETURNING`` on PostgreSQL and SQLite
    ≥ 3.35; one conditional UPDATE per row elsewhere."""
    updates: dict[str, Any] = {claim: now, **({"breached": True} if breach else {})}
    if connection.vendor in ("postgresql", "sqlite"):
        table = connection.ops.quote_name(SlaClock._meta.db_table)
        sets = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in updates)
        marks = ", ".join(["%s"] * len(ids))
        column = connection.ops.quote_name(claim)  # claim columns are named after their fields
        # Identifiers come from the model's own metadata; every value is a parameter.
        sql = f"UPDATE {table} SET {sets} WHERE id IN ({marks}) AND {column} IS NULL RETURNING id"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [*updates.values(), *ids])
            return [row[0] for row in cursor.fetchall()]
    return [
        pk
        for pk in ids
        if SlaClock.objects.filter(pk=pk, **{f"{claim}__isnull": True}).update(**updates)
    ]


def _loaded(ids: list[int]) -> list[SlaClock]:
    return list(
        SlaClock.objects.filter(pk__in=ids).select_related(
            "ticket__assignee", "ticket__org_unit", "ticket__requester", "ticket__policy"
        )
    )


def _claim_thresholds(
    result: TickResult, ids: list[int], level: int, claim: str, tick: _Tick
) -> None:
    """Claim a chunk's notices of one level and announce them in one transaction. If anything
    fails the whole chunk rolls back (claims included) and is retried row by row, so one bad
    ticket only holds back its own notice, which the next tick tries again."""
    try:
        with transaction.atomic():
            announced, silent = _claim_and_announce(ids, level, claim, tick)
    except Exception:
        if len(ids) == 1:
            raise
        logger.warning(
            "sla_tick: a chunk of %d level-%d notices failed; retrying one by one", len(ids), level
        )
        for pk in ids:
            _guarded(result, _claim_thresholds, [pk], level, claim, tick)
        return
    result.silent += silent
    if level == 3:
        result.breaches += announced
    else:
        result.warnings += announced


def _claim_and_announce(ids: list[int], level: int, claim: str, tick: _Tick) -> tuple[int, int]:
    claimed = _claim(ids, claim, tick.now, level == 3)
    if not claimed:
        return 0, 0
    rows = _loaded(claimed)
    if level == 3:
        Ticket.objects.filter(pk__in={r.ticket_id for r in rows}).update(sla_breached=True)
    # A clock past a higher threshold too (scheduler downtime) announces only that one.
    loud = [
        r for r in rows if level == 3 or not _passed(r.trigger_time(level + 1), level + 1, tick.now)
    ]
    TicketEvent.objects.bulk_create([_notice_event(row, level, tick.now) for row in loud])
    for row in loud:
        _notify_notice(row, level)
    return len(loud), len(rows) - len(loud)


def _notice_figures(row: SlaClock, level: int) -> tuple[str, int]:
    clause = str(Clause(row.clause).label)
    percent = round(row.ticket.policy.warn_fractions()[level - 1] * 100) if level < 3 else 100
    return clause, percent


def _notice_event(row: SlaClock, level: int, now: datetime) -> TicketEvent:
    """The ledger entry of a warning or breach notice."""
    clause, percent = _notice_figures(row, level)
    body = (
        _("%(clause)s已超时（到期 %(due)s）。")
        if level == 3
        else _("%(clause)s时限已用去 %(percent)s%%（到期 %(due)s）。")
    ) % {"clause": clause, "percent": percent, "due": _local(row.due_at)}
    return TicketEvent(
        ticket=row.ticket,
        kind=EventKind.SLA_BREACHED if level == 3 else EventKind.SLA_WARNING,
        at=now,
        recorded_at=now,
        actor_name=_("SLA 计时"),
        public=False,
        body=body,
        data={
            "clause": row.clause,
            "level": level,
            "percent": percent,
            "due_at": row.due_at.isoformat(),
        },
    )


def _notify_notice(row: SlaClock, level: int) -> None:
    """Warnings go to the assignee (every engineer while unassigned); a breach also to the ops
    manager."""
    ticket = row.ticket
    clause, percent = _notice_figures(row, level)
    recipients: list[Any] = [ticket.assignee] if ticket.assignee_id else [Role.ENGINEER]
    if level == 3:
        recipients.append(Role.OPS_MANAGER)
    notify(
        ops_events.SLA_BREACH if level == 3 else ops_events.SLA_WARNING,
        recipients,
        common.context(ticket, clause=clause, percent=percent, due_at=row.due_at),
        url=common.ticket_url(ticket),
    )


def _local(value: datetime) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _escalate_chunk(result: TickResult, ids: list[int], tick: _Tick) -> None:
    rows = _loaded(ids)
    firings: dict[tuple[int, str], list[EscalationFiring]] = {}
    for firing in EscalationFiring.objects.filter(ticket_id__in={r.ticket_id for r in rows}):
        firings.setdefault((firing.ticket_id, firing.clause), []).append(firing)
    for row in rows:
        try:
            _escalate(result, row, firings.get((row.ticket_id, row.clause), []), tick)
        except Exception as exc:
            logger.exception("sla_tick: escalation of clock %s failed", row.pk)
            result.errors.append(f"clock {row.pk}: {exc}")


def _escalate(
    result: TickResult, row: SlaClock, firings: list[EscalationFiring], tick: _Tick
) -> None:
    """Fire every step of one clock that is due now, in order; then store when the next is due."""
    steps = escalation_steps(row.clause, tick.steps)
    for _attempt in range(len(steps) + 1):
        upcoming = next_escalation(row, steps, firings)
        if upcoming is None or upcoming[0] > tick.now:
            break
        firing = _fire(row, upcoming[1], tick)
        if firing is not None:
            result.escalations += 1
            firings.append(firing)
        else:  # another scheduler fired it: read what it recorded
            firings = list(
                EscalationFiring.objects.filter(ticket_id=row.ticket_id, clause=row.clause)
            )
    SlaClock.objects.filter(pk=row.pk).update(next_escalation_at=upcoming[0] if upcoming else None)


def _target(step: EscalationStep, ticket: Ticket, tick: _Tick) -> tuple[Any, list[Any]]:
    """(the user reached, the recipients) for a step; an empty duty falls back to the role."""
    user: Any = None
    if step.target == EscalationTarget.ASSIGNEE:
        user = ticket.assignee or tick.current(ShiftRole.PRIMARY)
    elif step.target == EscalationTarget.ONCALL_PRIMARY:
        user = tick.current(ShiftRole.PRIMARY)
    elif step.target == EscalationTarget.ONCALL_SECONDARY:
        user = tick.current(ShiftRole.SECONDARY)
    if step.target == EscalationTarget.OPS_MANAGER:
        recipients: list[Any] = [Role.OPS_MANAGER]
    else:
        recipients = [user] if user is not None and user.is_active else [Role.ENGINEER]
    recipients += [r for r in (step.also_notify_roles or []) if r in Role.values]
    return user, recipients


def _fire(row: SlaClock, step: EscalationStep, tick: _Tick) -> EscalationFiring | None:
    """Claim the step by inserting its firing (unique per ticket, clause and step) and announce
    it in the same transaction; None when another scheduler fired it first."""
    ticket = row.ticket
    user, recipients = _target(step, ticket, tick)
    try:
        with transaction.atomic():
            firing = EscalationFiring.objects.create(
                ticket=ticket, clause=row.clause, step=step, target_user=user, fired_at=tick.now
            )
            clause = str(Clause(row.clause).label)
            trigger = str(EscalationTrigger(step.trigger).label)
            target = (
                user.get_full_name()
                if user is not None
                else str(EscalationTarget(step.target).label)
            )
            common.append(
                ticket,
                EventKind.ESCALATED,
                None,
                public=False,
                name=_("SLA 升级"),
                body=_("升级第 %(n)d 步（%(trigger)s）：通知 %(target)s。")
                % {"n": step.order, "trigger": trigger, "target": target},
                data={
                    "clause": row.clause,
                    "step": step.order,
                    "trigger": step.trigger,
                    "level": TRIGGER_LEVEL[step.trigger],  # type: ignore[index]
                    "target": step.target,
                    "user": user.get_username() if user else None,
                },
            )
            notify(
                ops_events.ESCALATION,
                recipients,
                common.context(
                    ticket, clause=clause, trigger=trigger, step=step.order, due_at=row.due_at
                ),
                url=common.ticket_url(ticket),
            )
    except IntegrityError:
        return None
    return firing

"""SLA policy versions, calendars and escalation policies."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ops_portal.choices import EscalationTarget, EscalationTrigger
from ops_portal.errors import ActionForbidden, TicketError
from ops_portal.models import BusinessCalendar, EscalationPolicy, EscalationStep, SlaPolicy

DEFAULT_CALENDAR = "7×24"
DEFAULT_ESCALATION = "默认升级策略"

POLICY_FIELDS = (
    "name",
    "restore_minutes",
    "respond_minutes",
    "on_site_minutes",
    "consult_minutes",
    "warn_percents",
    "calendar",
    "consult_calendar",
    "reopen_restarts_clock",
)

# assignee at the first warning → on-call primary at the second → on-call secondary at breach →
# the ops manager a quarter of an hour later if nobody has acknowledged.
DEFAULT_STEPS = (
    (EscalationTrigger.WARNING_1, 0, EscalationTarget.ASSIGNEE, 30),
    (EscalationTrigger.WARNING_2, 0, EscalationTarget.ONCALL_PRIMARY, 15),
    (EscalationTrigger.BREACH, 0, EscalationTarget.ONCALL_SECONDARY, 15),
    (EscalationTrigger.BREACH, 15, EscalationTarget.OPS_MANAGER, 0),
)


def default_calendar() -> BusinessCalendar:
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name=DEFAULT_CALENDAR, defaults={"is_24x7": True}
    )
    return calendar


def current_policy() -> SlaPolicy:
    """The newest SLA version (created with the contract's defaults on first use)."""
    policy = (
        SlaPolicy.objects.select_related("calendar", "consult_calendar")
        .order_by("-version")
        .first()
    )
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            SlaPolicy.objects.create(version=1, calendar=default_calendar(), note="合同默认条款")
    except IntegrityError:  # another process created version 1 first
        pass
    return SlaPolicy.objects.select_related("calendar", "consult_calendar").order_by("-version")[0]


def publish_policy(actor: Any, note: str = "", **values: Any) -> SlaPolicy:
    """Create the next SLA version from the current one with ``values`` changed. Tickets keep
    the version they were created under; new tickets get this one."""
    from ops_portal.access import is_ops_manager

    if not is_ops_manager(actor):
        raise ActionForbidden(_("只有运维负责人可以修改 SLA 策略。"))
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise TicketError(
            _("未知的策略字段：%(names)s。")
            % {"names": pgettext("list separator", "、").join(sorted(unknown))}
        )
    base = current_policy()
    with transaction.atomic():
        fields = {name: getattr(base, name) for name in POLICY_FIELDS}
        fields.update(values)
        latest = SlaPolicy.objects.aggregate(v=Max("version"))["v"] or 0
        policy = SlaPolicy(version=latest + 1, note=note, created_by=actor, **fields)
        try:
            policy.full_clean()
        except ValidationError as exc:
            messages = getattr(exc, "message_dict", None)
            if messages:
                field, errors = next(iter(messages.items()))
                label = getattr(policy._meta.get_field(field), "verbose_name", field)
                raise TicketError(
                    _("%(label)s：%(text)s") % {"label": label, "text": errors[0]}, field
                ) from exc
            raise TicketError(str(exc)) from exc
        policy.save()  # audited through the registry (a new version is a "create" entry)
    return policy


def default_escalation_policy() -> EscalationPolicy:
    """The escalation policy used when none is configured (created with its steps on first use)."""
    policy, created = EscalationPolicy.objects.get_or_create(name=DEFAULT_ESCALATION)
    if created:
        EscalationStep.objects.bulk_create(
            [
                EscalationStep(
                    policy=policy,
                    order=i,
                    trigger=trigger,
                    delay_minutes=delay,
                    target=target,
                    ack_timeout_minutes=timeout,
                )
                for i, (trigger, delay, target, timeout) in enumerate(DEFAULT_STEPS, start=1)
            ]
        )
    return policy


def escalation_steps(
    clause: str, cache: dict[str, list[EscalationStep]] | None = None
) -> list[EscalationStep]:
    """The ordered steps of the active escalation policy covering ``clause``."""
    if cache is not None and clause in cache:
        return cache[clause]
    policies = list(EscalationPolicy.objects.filter(is_active=True).prefetch_related("steps"))
    if not policies and not EscalationPolicy.objects.exists():
        policies = [default_escalation_policy()]
    chosen = next((p for p in policies if p.covers(clause)), None)
    steps = sorted(chosen.steps.all(), key=lambda s: s.order) if chosen else []
    if cache is not None:
        cache[clause] = steps
    return steps

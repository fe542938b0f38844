"""The one notification service of the platform, and the operations around it.

Every feature announces things through :func:`notify`; it always writes in-app notifications and
plans one :class:`Delivery` per applicable external channel, sent by Celery after the
surrounding transaction commits. A failing channel never breaks the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from celery.exceptions import Retry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from qc_core.accounts.choices import Role
from qc_core.accounts.models import RoleAssignment
from qc_core.accounts.scope import has_role_over
from qc_core.notify import channels
from qc_core.notify.choices import CLAIMABLE, DeliveryStatus
from qc_core.notify.events import Event, get_event
from qc_core.notify.models import Channel, Delivery, Notification
from qc_core.system import clock

logger = logging.getLogger(__name__)

# A delivery left "sending" longer than this (worker killed mid-send) may be sent again by resend().
STALE_SENDING = timedelta(minutes=10)


# --- sending -----------------------------------------------------------------------------------


def notify(
    event: str,
    recipients: Iterable[Any],
    context: dict[str, Any],
    *,
    url: str = "",
    org_unit: Any = None,
) -> list[Notification]:
    """Announce ``event`` to ``recipients`` (Users and/or role codes) and return the in-app rows.

    A role reaches its active holders — only those whose scope for that role contains
    ``org_unit`` when one is given — and the role's own channels. Each user gets one in-app
    notification; each enabled channel of theirs (or of an addressed role) whose event filter
    matches gets a pending delivery, enqueued on commit. Raises ``ValueError`` for an unknown
    event or role code.
    """
    spec = get_event(event)
    users, roles = _resolve(recipients, org_unit)
    title, body = spec.render(context)
    now = clock.now()
    with transaction.atomic():
        notes = Notification.objects.bulk_create(
            [
                Notification(user=u, event=event, title=title, body=body, url=url, created_at=now)
                for u in users
            ]
        )
        planned = _plan_deliveries(spec, notes, roles, title, _external_body(body, url), now)
        if planned:
            transaction.on_commit(partial(_enqueue, [d.pk for d in planned]))
    return notes


def role_members(roles: Iterable[str], org_unit: Any = None) -> list[Any]:
    """Active users holding one of ``roles``; with ``org_unit``, only those whose scope for those
    roles contains it (decided by the scope module, never by hand)."""
    codes = sorted({str(r) for r in roles})
    if not codes:
        return []
    qs = (
        get_user_model().objects.filter(is_active=True, role_assignments__role__in=codes).distinct()
    )
    if org_unit is None:
        return list(qs)
    # Fill the scope module's per-user assignment cache in one query instead of one per user.
    qs = qs.prefetch_related(
        Prefetch(
            "role_assignments",
            queryset=RoleAssignment.objects.select_related("org_unit"),
            to_attr="_scope_assignments",
        )
    )
    return [u for u in qs if has_role_over(u, codes, org_unit)]


def _resolve(recipients: Iterable[Any], org_unit: Any) -> tuple[list[Any], list[str]]:
    user_model = get_user_model()
    users: dict[int, Any] = {}
    roles: list[str] = []
    if isinstance(recipients, str | user_model):
        recipients = [recipients]
    for item in recipients:
        if isinstance(item, user_model):
            if item.is_active:
                users.setdefault(item.pk, item)
        elif isinstance(item, str):
            if item not in Role.values:
                raise ValueError(f"Unknown role code {item!r} among notification recipients.")
            if str(item) not in roles:
                roles.append(str(item))
        else:
            raise ValueError(f"Notification recipient must be a User or a role code, not {item!r}.")
    for member in role_members(roles, org_unit):
        users.setdefault(member.pk, member)
    return list(users.values()), roles


def _plan_deliveries(
    spec: Event, notes: list[Notification], roles: list[str], title: str, body: str, now: Any
) -> list[Delivery]:
    by_user = {n.user_id: n for n in notes}
    wanted = Q(user_id__in=list(by_user))
    if roles:
        wanted |= Q(user__isnull=True, role__in=roles)
    planned = []
    for channel in Channel.objects.filter(wanted, enabled=True).order_by("id"):
        if not channel.accepts(spec.code, ignore_filters=spec.ignore_filters):
            continue
        planned.append(
            Delivery(
                notification=by_user.get(channel.user_id) if channel.user_id else None,
                channel=channel,
                user_id=channel.user_id,
                role=channel.role,
                event=spec.code,
                kind=channel.kind,
                target=channel.target,
                subject=title,
                body=body,
                created_at=now,
                updated_at=now,
            )
        )
    return Delivery.objects.bulk_create(planned) if planned else []


def _external_body(body: str, url: str) -> str:
    """E-mails and bot messages cannot use relative links: add a full one when SITE_URL is known."""
    if not url:
        return body
    if url.startswith(("http://", "https://")):
        link = url
    elif settings.SITE_URL:
        link = f"{settings.SITE_URL}{url if url.startswith('/') else '/' + url}"
    else:
        return body
    return f"{body}\n\n" + _("详情：%(link)s") % {"link": link}


def _enqueue(delivery_ids: list[int]) -> None:
    """on_commit hook: hand each delivery to Celery; a broker failure is logged on the delivery."""
    from qc_core.notify.tasks import send_delivery

    for pk in delivery_ids:
        try:
            send_delivery.delay(pk)
        except Exception as exc:  # never let the broker (or an eager run) break the caller
            logger.exception("cannot enqueue notification delivery %s", pk)
            if isinstance(exc, Retry):
                # Eager mode with propagating errors cannot retry inline; nothing else will retry.
                message = _("即时执行模式下无法自动重试：%(err)s") % {"err": exc.exc or exc}
            else:
                message = _("无法提交到任务队列：%(err)s") % {"err": exc}
            Delivery.objects.filter(pk=pk, status__in=CLAIMABLE).update(
                status=DeliveryStatus.FAILED,
                last_error=message[: channels.ERROR_MAX],
                log=_log_line(message),
                updated_at=clock.now(),
            )


def _log_line(message: str) -> str:
    return f"[{timezone.localtime(clock.now()).strftime('%Y-%m-%d %H:%M:%S')}] {message}\n"


def attempt_delivery(delivery_id: int, *, final: bool) -> str:
    """Make one send attempt for a delivery and return its resulting status.

    The row is claimed with a conditional UPDATE (pending/retrying → sending), so a delivery
    already sent, or being sent by another worker, is left alone. On failure the error is logged
    on the row; the delivery becomes *retrying* and :class:`DeliveryError` is raised for the task
    to retry — or, when ``final``, it becomes *failed* and nothing is raised.
    """
    now = clock.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status__in=CLAIMABLE).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
    )
    if not claimed:
        status = Delivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        if status is None:
            logger.info("notification delivery %s vanished; nothing to send", delivery_id)
            return "missing"
        logger.info("notification delivery %s is %s; not sending again", delivery_id, status)
        return str(status)
    delivery = Delivery.objects.get(pk=delivery_id)
    try:
        channels.send(delivery.kind, delivery.target, delivery.subject, delivery.body)
    except channels.DeliveryError as exc:
        delivery.status = DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING
        delivery.last_error = str(exc)[: channels.ERROR_MAX]
        line = _("第 %(n)d 次发送失败：%(err)s") % {"n": delivery.attempts, "err": exc}
        if not final:
            line += _("（将自动重试）")
        delivery.log += _log_line(line)
        delivery.updated_at = clock.now()
        delivery.save(update_fields=["status", "last_error", "log", "updated_at"])
        logger.warning(
            "notification delivery %s attempt %s failed: %s", delivery_id, delivery.attempts, exc
        )
        if final:
            return str(delivery.status)
        raise
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = delivery.updated_at = clock.now()
    delivery.log += _log_line(_("第 %(n)d 次发送成功。") % {"n": delivery.attempts})
    delivery.save(update_fields=["status", "sent_at", "log", "updated_at"])
    return str(delivery.status)


def resend(delivery: Delivery) -> bool:
    """Queue a failed (or stuck) delivery again; returns False when it is not eligible."""
    stuck = Q(status=DeliveryStatus.SENDING, updated_at__lt=clock.now() - STALE_SENDING)
    changed = Delivery.objects.filter(
        Q(status=DeliveryStatus.FAILED) | stuck, pk=delivery.pk
    ).update(
        status=DeliveryStatus.PENDING,
        updated_at=clock.now(),
        log=Concat(F("log"), Value(_log_line(_("已重新加入发送队列。")))),
    )
    if not changed:
        return False
    transaction.on_commit(partial(_enqueue, [delivery.pk]))
    return True


def send_channel_test(channel: Channel, actor: Any) -> Delivery:
    """Send the test message to one channel only (admin action for role channels)."""
    subject, body = get_event("system.test").render({"actor": actor, "time": clock.now()})
    now = clock.now()
    with transaction.atomic():
        delivery = Delivery.objects.create(
            channel=channel,
            user_id=channel.user_id,
            role=channel.role,
            event="system.test",
            kind=channel.kind,
            target=channel.target,
            subject=subject,
            body=body,
            created_at=now,
            updated_at=now,
        )
        transaction.on_commit(partial(_enqueue, [delivery.pk]))
    return delivery


# --- reading -----------------------------------------------------------------------------------


def own_notifications(user: Any) -> QuerySet[Notification]:
    """A user sees only their own notifications."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user)


def unread_count(user: Any) -> int:
    return own_notifications(user).filter(read_at__isnull=True).count()


def own_channels(user: Any) -> QuerySet[Channel]:
    if not user.is_authenticated:
        return Channel.objects.none()
    return Channel.objects.filter(user=user)


def own_deliveries(user: Any) -> QuerySet[Delivery]:
    """The delivery log a user may read: deliveries to their own channels."""
    if not user.is_authenticated:
        return Delivery.objects.none()
    return Delivery.objects.filter(user=user, role="")


def mark_read(user: Any, notification_id: int) -> Notification:
    """Mark one of ``user``'s notifications read (``Notification.DoesNotExist`` for others')."""
    note = own_notifications(user).get(pk=notification_id)
    if note.read_at is None:
        note.read_at = clock.now()
        note.save(update_fields=["read_at"])
    return note


def mark_all_read(user: Any) -> int:
    return own_notifications(user).filter(read_at__isnull=True).update(read_at=clock.now())


# --- background-job hook -----------------------------------------------------------------------


def notify_run_finished(run_id: Any) -> list[Notification]:
    """Tell the user who started a TaskRun that it finished (``task.finished`` / ``task.failed``)."""
    from django.urls import reverse

    from qc_core.system.choices import RunStatus
    from qc_core.system.models import TaskRun

    run = TaskRun.objects.select_related("started_by", "org_unit").filter(pk=run_id).first()
    if (
        run is None
        or run.started_by is None
        or run.status not in {RunStatus.SUCCEEDED, RunStatus.FAILED}
    ):
        return []
    event = "task.finished" if run.status == RunStatus.SUCCEEDED else "task.failed"
    context = {
        "run": run,
        "label": run.label,
        "message": run.message,
        "error": run.error,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }
    return notify(
        event,
        [run.started_by],
        context,
        url=reverse("system:job_detail", args=[run.pk]),
        org_unit=run.org_unit,
    )

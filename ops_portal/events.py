"""Notification events of the operations portal (registered with the notify service)."""

from django.utils.translation import gettext_lazy as _

from qc_core.notify.events import register_event

TICKET_CREATED = "ops.ticket_created"
TICKET_ASSIGNED = "ops.ticket_assigned"
TICKET_UPDATED = "ops.ticket_updated"
SLA_WARNING = "ops.sla_warning"
SLA_BREACH = "ops.sla_breach"
ESCALATION = "ops.escalation"

register_event(TICKET_CREATED, title=_("新工单"), subject=_("新工单 {{ number }}：{{ title }}"))
register_event(TICKET_ASSIGNED, title=_("工单指派"), subject=_("工单 {{ number }} 已指派给您"))
register_event(TICKET_UPDATED, title=_("工单进展"), subject=_("工单 {{ number }}：{{ what }}"))
register_event(
    SLA_WARNING,
    title=_("SLA 预警"),
    subject=_("SLA 预警 {{ percent }}%：{{ number }} {{ clause }}"),
)
register_event(SLA_BREACH, title=_("SLA 超时"), subject=_("SLA 已超时：{{ number }} {{ clause }}"))
register_event(
    ESCALATION,
    title=_("SLA 升级通知"),
    subject=_("【升级】{{ number }} {{ clause }}：{{ trigger }}"),
)

"""Enumerations of the operations portal (tickets, SLA clauses, ledger events, escalation)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    FAULT = "fault", _("故障")
    CONSULTATION = "consultation", _("咨询")
    REQUIREMENT = "requirement", _("需求")
    CHANGE = "change", _("变更")


class Severity(models.TextChoices):
    OUTAGE = "outage", _("系统停止/核心功能不可用")
    NON_OUTAGE = "non_outage", _("一般故障")


class Channel(models.TextChoices):
    WEB = "web", _("网页")
    EMAIL = "email", _("邮件")
    PHONE = "phone", _("电话")
    API = "api", _("接口")
    MONITOR = "monitor", _("监控")


class Status(models.TextChoices):
    NEW = "new", _("新建")
    ACKNOWLEDGED = "acknowledged", _("已受理")
    IN_PROGRESS = "in_progress", _("处理中")
    AWAITING_CUSTOMER = "awaiting_customer", _("待用户反馈")
    RESOLVED = "resolved", _("已解决")
    CLOSED = "closed", _("已关闭")


OPEN_STATUSES = frozenset(
    {Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.AWAITING_CUSTOMER}
)
DONE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})


class Clause(models.TextChoices):
    """One SLA clock per contract clause."""

    RESTORE = "restore", _("恢复（1小时）")
    RESPOND = "respond", _("响应（4小时，原因+方案）")
    ON_SITE = "on_site", _("到场（24小时）")
    CONSULT_RESPONSE = "consult_response", _("咨询/需求响应")


class EventKind(models.TextChoices):
    """Kinds of entries in a ticket's append-only ledger."""

    CREATED = "created", _("创建")
    ACKNOWLEDGED = "acknowledged", _("受理")
    ASSIGNED = "assigned", _("指派")
    COMMENT = "comment", _("回复")
    INTERNAL_NOTE = "internal_note", _("内部备注")
    RESPONSE = "response", _("答复（原因与方案）")
    PAUSED = "paused", _("暂停计时（待用户反馈）")
    RESUMED = "resumed", _("恢复计时")
    SEVERITY_CHANGED = "severity_changed", _("调整故障等级")
    ON_SITE_REQUESTED = "on_site_requested", _("提出到场需求")
    ON_SITE_CONFIRMED = "on_site_confirmed", _("确认到场")
    ON_SITE_ARRIVED = "on_site_arrived", _("到场签到")
    RESOLVED = "resolved", _("已解决")
    CLOSED = "closed", _("已关闭")
    REOPENED = "reopened", _("重新打开")
    ALERT_APPENDED = "alert_appended", _("监控告警")
    SLA_WARNING = "sla_warning", _("SLA 预警")
    SLA_BREACHED = "sla_breached", _("SLA 超时")
    ESCALATED = "escalated", _("升级通知")
    ESCALATION_ACKNOWLEDGED = "escalation_acknowledged", _("确认升级通知")


class OnSiteSide(models.TextChoices):
    """The two parties whose confirmation starts the on-site clock."""

    ENGINEER = "engineer", _("运维方")
    CUSTOMER = "customer", _("用户方")


class EscalationTrigger(models.TextChoices):
    """The clock threshold an escalation step waits for (ordered: warning_1 < warning_2 < breach)."""

    WARNING_1 = "warning_1", _("第一级预警（默认 50%）")
    WARNING_2 = "warning_2", _("第二级预警（默认 80%）")
    BREACH = "breach", _("超时（100%）")


TRIGGER_LEVEL = {
    EscalationTrigger.WARNING_1: 1,
    EscalationTrigger.WARNING_2: 2,
    EscalationTrigger.BREACH: 3,
}


class EscalationTarget(models.TextChoices):
    ASSIGNEE = "assignee", _("处理人")
    ONCALL_PRIMARY = "oncall_primary", _("主值班")
    ONCALL_SECONDARY = "oncall_secondary", _("副值班")
    OPS_MANAGER = "ops_manager", _("运维负责人")


class ShiftRole(models.TextChoices):
    PRIMARY = "primary", _("主值班")
    SECONDARY = "secondary", _("副值班")


class CalendarDayKind(models.TextChoices):
    """Exceptions to a business calendar's weekly pattern (Chinese public holidays and the
    weekend days worked in exchange, 调休)."""

    HOLIDAY = "holiday", _("节假日（不计时）")
    WORKDAY = "workday", _("调休工作日（计时）")

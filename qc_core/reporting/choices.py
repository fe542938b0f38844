"""Choices of the reporting workflow."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已上报")
    REVIEWED = "reviewed", _("分中心已审核")
    APPROVED = "approved", _("已通过")
    RETURNED = "returned", _("已退回")


# States in which the unit may edit values (subject to the entry window).
EDITABLE_STATUSES = {SubmissionStatus.DRAFT, SubmissionStatus.RETURNED}
# States that count as "reported" (for history, peers and progress).
REPORTED_STATUSES = {
    SubmissionStatus.SUBMITTED,
    SubmissionStatus.REVIEWED,
    SubmissionStatus.APPROVED,
}


class ReviewAction(models.TextChoices):
    SUBMIT = "submit", _("上报")
    RESUBMIT = "resubmit", _("重新上报")
    SUBCENTER_APPROVE = "subcenter_approve", _("分中心审核通过")
    APPROVE = "approve", _("审核通过")
    RETURN = "return", _("退回")
    REOPEN = "reopen", _("重新开放")


class ValueSource(models.TextChoices):
    WEB = "web", _("网页填报")
    IMPORT = "import", _("Excel 导入")
    API = "api", _("接口")
    DHIS2 = "dhis2", _("DHIS2 接口")


class AlertStep(models.TextChoices):
    """Steps of the reporting-progress alerts (see :mod:`qc_core.reporting.alerts`)."""

    REMIND_7 = "remind_7", _("截止前 7 天提醒")
    REMIND_3 = "remind_3", _("截止前 3 天提醒")
    REMIND_1 = "remind_1", _("截止前 1 天提醒")
    LATE = "late", _("逾期未报通知")
    ESCALATE = "escalate", _("逾期 7 天上报省中心")
    DIGEST = "digest", _("每周上报进度汇总")

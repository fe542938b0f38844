"""Enumerations of the on-call module (rosters, special duty, override and swap requests)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ShiftSource(models.TextChoices):
    """Where a shift comes from; decides its precedence (see ``LAYER``)."""

    ROSTER = "roster", _("常规值班表")
    SPECIAL_DUTY = "special_duty", _("专项值守")
    OVERRIDE = "override", _("代班/换班")
    MANUAL = "manual", _("手工排班")


# Higher wins when shifts of one role overlap: an approved override beats special duty, which
# beats the regular roster. A gap in a higher layer lets the lower one show through (as in
# PagerDuty's schedule layers), so special duty defined for daytime only keeps the regular
# night cover. A shift added by hand in the admin counts as the regular roster.
LAYER = {
    ShiftSource.OVERRIDE: 3,
    ShiftSource.SPECIAL_DUTY: 2,
    ShiftSource.ROSTER: 1,
    ShiftSource.MANUAL: 1,
}


class DutyKind(models.TextChoices):
    """Key periods that get their own duty team."""

    QUARTERLY_REPORTING = "quarterly_reporting", _("季度数据上报窗口")
    NATIONAL_REPORTING = "national_reporting", _("国家平台上报")
    PROVINCIAL_INSPECTION = "provincial_inspection", _("省级督导检查")
    OTHER = "other", _("其他重点保障")


class RequestKind(models.TextChoices):
    COVER = "cover", _("代班")
    SWAP = "swap", _("换班")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤回")

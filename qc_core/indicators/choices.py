"""Choices of the indicator library: sets, kinds, directions, statuses, units, period types."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from qc_core.accounts.choices import Role

# Roles that work with QC data at all (read the library, see submissions in their scope).
QC_ROLES = frozenset(
    {
        Role.CENTER_ADMIN,
        Role.SUBCENTER_ADMIN,
        Role.UNIT_REPORTER,
        Role.HOSPITAL_LEADER,
        Role.HEALTH_OFFICIAL,
    }
)


class IndicatorSet(models.TextChoices):
    GERIATRIC_QC = "geriatric_qc", _("老年医学质控")
    HOSPITAL_QC = "hospital_qc", _("医院质控")
    OPERATIONAL = "operational", _("运营指标")


class Kind(models.TextChoices):
    STRUCTURE = "structure", _("结构")
    PROCESS = "process", _("过程")
    OUTCOME = "outcome", _("结果")
    EFFICIENCY = "efficiency", _("效率")
    VOLUME = "volume", _("工作量")
    COST = "cost", _("费用")
    CASEMIX = "casemix", _("病例组合")


class Direction(models.TextChoices):
    HIGHER = "higher", _("越高越好")
    LOWER = "lower", _("越低越好")
    MONITOR = "monitor", _("监测")


class Status(models.TextChoices):
    OFFICIAL = "official", _("国家/行业标准")
    PROPOSED = "proposed", _("省级提议")


class PeriodType(models.TextChoices):
    QUARTER = "quarter", _("季度")
    MONTH = "month", _("月度")


class Unit(models.TextChoices):
    PERCENT = "%", _("%")
    PERMILLE = "‰", _("‰")
    DAYS = "天", _("天")
    TIMES = "次", _("次")
    PERSON_TIMES = "人次", _("人次")
    BEDS = "张", _("张")
    YUAN = "元", _("元")
    RATIO = "ratio", _("比值")
    INDEX = "index", _("指数")
    COUNT = "count", _("计数")


# Rates whose numerator is a subset of the denominator (built-in check: numerator ≤ denominator).
RATE_UNITS = {Unit.PERCENT, Unit.PERMILLE}
# Money and weighted values are not counts: their numerators/denominators may have decimals.
DECIMAL_UNITS = {Unit.YUAN, Unit.INDEX}


class RulePart(models.TextChoices):
    NUMERATOR = "numerator", _("分子")
    DENOMINATOR = "denominator", _("分母")
    VALUE = "value", _("指标值")


class Operator(models.TextChoices):
    LE = "<=", "≤"
    LT = "<", "<"
    GE = ">=", "≥"
    GT = ">", ">"
    EQ = "==", "="


class Severity(models.TextChoices):
    ERROR = "error", _("错误")
    WARNING = "warning", _("警告")
    NOTICE = "notice", _("提示")

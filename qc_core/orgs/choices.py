from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("省")
    PREFECTURE = "prefecture", _("州/市")
    COUNTY = "county", _("县/区")
    INSTITUTION = "institution", _("医疗机构")
    DEPARTMENT = "department", _("科室")


# Allowed parent level for each level: the tree is strictly province → prefecture → county →
# institution → department, except that an institution may hang directly under a prefecture
# (provincial and prefectural hospitals are not tied to one county).
PARENT_LEVELS: dict[str, set[str]] = {
    Level.PROVINCE: set(),
    Level.PREFECTURE: {Level.PROVINCE},
    Level.COUNTY: {Level.PREFECTURE},
    Level.INSTITUTION: {Level.PROVINCE, Level.PREFECTURE, Level.COUNTY},
    Level.DEPARTMENT: {Level.INSTITUTION},
}


class HospitalLevel(models.TextChoices):
    L3A = "3A", _("三级甲等")
    L3B = "3B", _("三级乙等")
    L3 = "3", _("三级")
    L2A = "2A", _("二级甲等")
    L2B = "2B", _("二级乙等")
    L2 = "2", _("二级")
    L1 = "1", _("一级")
    UNRATED = "none", _("未定级")

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CENTER_ADMIN = "center_admin", _("省质控中心管理员")
    SUBCENTER_ADMIN = "subcenter_admin", _("州市分中心管理员")
    UNIT_REPORTER = "unit_reporter", _("成员单位质控专员")
    EXPERT = "expert", _("督导专家")
    HOSPITAL_LEADER = "hospital_leader", _("医院领导")
    HEALTH_OFFICIAL = "health_official", _("卫生行政人员")
    ENGINEER = "engineer", _("运维工程师")
    OPS_MANAGER = "ops_manager", _("运维负责人")
    TESTER = "tester", _("测试人员")


# Roles whose scope is an org unit subtree (the assignment's org_unit is required).
UNIT_SCOPED_ROLES = {
    Role.CENTER_ADMIN,
    Role.SUBCENTER_ADMIN,
    Role.UNIT_REPORTER,
    Role.HOSPITAL_LEADER,
    Role.HEALTH_OFFICIAL,
}
# Roles that see the whole province's org tree (read) regardless of the assignment's unit.
PROVINCE_WIDE_ROLES = {Role.CENTER_ADMIN, Role.HEALTH_OFFICIAL}
# Operations roles: they work across all units' tickets, backups and probes.
OPERATIONS_ROLES = {Role.ENGINEER, Role.OPS_MANAGER, Role.TESTER}
# The level an assignment's unit must have for each unit-scoped role.
ROLE_UNIT_LEVELS = {
    Role.CENTER_ADMIN: {"province"},
    Role.HEALTH_OFFICIAL: {"province"},
    Role.SUBCENTER_ADMIN: {"prefecture"},
    Role.UNIT_REPORTER: {"institution"},
    Role.HOSPITAL_LEADER: {"institution"},
}
# Who may administer users (see and manage accounts inside their scope).
USER_ADMIN_ROLES = {Role.CENTER_ADMIN, Role.SUBCENTER_ADMIN, Role.OPS_MANAGER}
# Who may read the audit trail.
AUDIT_READER_ROLES = {Role.CENTER_ADMIN, Role.OPS_MANAGER}

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    """What an audit entry records."""

    LOGIN = "login", _("登录")
    LOGOUT = "logout", _("退出登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    CREATE = "create", _("新建")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    EXPORT = "export", _("导出")
    DOWNLOAD = "download", _("下载")
    ACCESS_DENIED = "access_denied", _("拒绝访问")
    OTHER = "other", _("其他")

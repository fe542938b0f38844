from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication as DRFTokenAuthentication


class TokenAuthentication(DRFTokenAuthentication):
    """``Authorization: Token <key>`` (DRF's token, one per user). A user who must change the
    initial password cannot use the API until they have done so in the web UI."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if getattr(user, "must_change_password", False):
            raise exceptions.AuthenticationFailed(_("请先登录网页修改初始密码，再使用 API。"))
        return user, token

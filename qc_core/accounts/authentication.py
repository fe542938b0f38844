from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication as DRFTokenAuthentication

from qc_core.accounts.tokens import KEY_PREFIX, authenticate_unit_token


class TokenAuthentication(DRFTokenAuthentication):
    """``Authorization: Token <key>`` (DRF's token, one per user). A user who must change the
    initial password cannot use the API until they have done so in the web UI. Keys starting
    with ``gqu_`` are per-unit tokens of hospital systems (:mod:`qc_core.accounts.tokens`)."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        if key.startswith(KEY_PREFIX):
            return authenticate_unit_token(key)
        user, token = super().authenticate_credentials(key)
        if getattr(user, "must_change_password", False):
            raise exceptions.AuthenticationFailed(_("请先登录网页修改初始密码，再使用 API。"))
        return user, token

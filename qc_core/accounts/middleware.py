"""Session idle timeout and the forced first-login password change."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from qc_core.system import clock

SESSION_KEY = "geriqc_last_activity"
# Requests a page makes on its own (notification bell, job progress) must not keep an idle
# session alive; the templates mark them with this header.
BACKGROUND_HEADER = "X-Background-Poll"
EXEMPT_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics", "/i18n/")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class IdleTimeoutMiddleware:
    """Log a session out after ``SESSION_IDLE_TIMEOUT`` without user activity."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(EXEMPT_PREFIXES) or not request.user.is_authenticated:
            return self.get_response(request)
        if request.session.session_key:
            now = clock.now().timestamp()
            last = request.session.get(SESSION_KEY)
            if (
                last is not None
                and now - float(last) > settings.SESSION_IDLE_TIMEOUT.total_seconds()
            ):
                logout(request)
                message = _("您已超过 %(m)d 分钟未操作，会话已过期，请重新登录。") % {
                    "m": int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60)
                }
                if _is_api(request) or request.headers.get("HX-Request"):
                    return JsonResponse(
                        {"status": 401, "code": "session_expired", "message": message}, status=401
                    )
                messages.warning(request, message)
                return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.get_full_path()}")
            if not request.headers.get(BACKGROUND_HEADER):
                request.session[SESSION_KEY] = now
        return self.get_response(request)


class ForcePasswordChangeMiddleware:
    """Send users flagged ``must_change_password`` to the password page until they change it."""

    ALLOWED_NAMES = {"accounts:password_change", "accounts:logout", "set_language"}

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            allowed = {reverse(name) for name in self.ALLOWED_NAMES}
            if request.path not in allowed:
                message = _("这是您首次登录（或密码已被管理员重置），请先修改密码。")
                if _is_api(request):
                    return JsonResponse(
                        {"status": 403, "code": "password_change_required", "message": message},
                        status=403,
                    )
                messages.info(request, message)
                return redirect("accounts:password_change")
        return self.get_response(request)

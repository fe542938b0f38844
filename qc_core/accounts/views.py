"""Sign-in, sign-out, password change and the profile page."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from qc_core.accounts.forms import LoginForm, ProfileForm, StyledPasswordChangeForm
from qc_core.accounts.models import User
from qc_core.accounts.services import record_password_change


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "登录失败次数过多（连续 %(n)d 次），账户已锁定 %(m)d 分钟，请稍后再试或联系管理员解锁。"
    ) % {
        "n": settings.AXES_FAILURE_LIMIT,
        "m": minutes,
    }


def lockout_response(
    request: HttpRequest, response: Any = None, credentials: Any = None
) -> HttpResponse:
    """Shown by django-axes when an account is locked: Chinese message, no stack trace."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"status": 403, "code": "account_locked", "message": message}, status=403
        )
    form = LoginForm(request)
    return render(
        request, "accounts/login.html", {"form": form, "locked_message": message}, status=403
    )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = StyledPasswordChangeForm
    success_url = reverse_lazy("system:home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record_password_change(form.user)
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, _("密码已修改。"))
        return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            for field in ("full_name", "email", "phone"):
                setattr(user, field, form.cleaned_data[field])
            user.save(update_fields=["full_name", "email", "phone"])
            messages.success(request, _("个人信息已保存。"))
            return redirect("accounts:profile")
    else:
        form = ProfileForm(
            initial={"full_name": user.full_name, "email": user.email, "phone": user.phone}
        )
    assignments = user.role_assignments.select_related("org_unit")
    return render(request, "accounts/profile.html", {"form": form, "assignments": assignments})

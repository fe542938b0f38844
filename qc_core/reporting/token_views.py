"""Unit API tokens page (center admins): list, create (the key is shown once), revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qc_core.accounts.choices import Role
from qc_core.accounts.scope import visible_units
from qc_core.accounts.tokens import UnitApiToken, issue_unit_token, revoke_unit_token
from qc_core.orgs.choices import Level
from qc_core.system.permissions import role_required


class TokenForm(forms.Form):
    org_unit = forms.CharField(
        label=gettext_lazy("单位代码"),
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "HA001"}),
    )
    name = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=100,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": gettext_lazy("如：HIS 系统接口")}
        ),
    )


def _units(request: HttpRequest):  # type: ignore[no-untyped-def]
    return visible_units(request.user, [Role.CENTER_ADMIN]).filter(level=Level.INSTITUTION)


@role_required(Role.CENTER_ADMIN)
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        unit = _units(request).filter(code=form.cleaned_data["org_unit"].strip()).first()
        if unit is None:
            form.add_error(
                "org_unit", _("医疗机构“%(c)s”不存在。") % {"c": form.cleaned_data["org_unit"]}
            )
        else:
            try:
                token, new_key = issue_unit_token(unit, form.cleaned_data["name"], request.user)
            except ValueError as exc:
                form.add_error("org_unit", str(exc))
            else:
                messages.success(
                    request,
                    _("已创建令牌“%(n)s”。密钥只显示这一次，请立即复制保存。") % {"n": token.name},
                )
                form = TokenForm()
    tokens = UnitApiToken.objects.filter(org_unit__in=_units(request).values("pk")).select_related(
        "org_unit", "created_by"
    )
    return render(
        request, "reporting/token_list.html", {"form": form, "tokens": tokens, "new_key": new_key}
    )


@require_POST
@role_required(Role.CENTER_ADMIN)
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(
        UnitApiToken.objects.filter(org_unit__in=_units(request).values("pk")), pk=pk
    )
    revoke_unit_token(token, request.user)
    messages.success(request, _("已吊销令牌“%(n)s”。") % {"n": token.name})
    return redirect("reporting:token_list")

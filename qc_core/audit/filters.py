"""The one set of audit filters, shared by the search page, its CSV export and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from qc_core.audit.choices import Action
from qc_core.audit.models import AuditEntry
from qc_core.orgs.models import OrgUnit


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the site's time zone (Asia/Shanghai), as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


class AuditEntryFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(
        field_name="actor_username", lookup_expr="icontains", label=_("用户名包含")
    )
    org_unit = django_filters.CharFilter(method="filter_org_unit", label=_("单位代码（含下级）"))
    action = django_filters.ChoiceFilter(
        choices=Action.choices, label=_("动作"), empty_label=_("全部")
    )
    object_type = django_filters.CharFilter(field_name="object_type", label=_("对象类型"))
    since = django_filters.DateFilter(method="filter_since", label=_("起始日期"))
    until = django_filters.DateFilter(method="filter_until", label=_("截止日期（含当天）"))

    class Meta:
        model = AuditEntry
        fields = ["user", "org_unit", "action", "object_type", "since", "until"]

    def filter_org_unit(
        self, qs: QuerySet[AuditEntry], name: str, value: str
    ) -> QuerySet[AuditEntry]:
        unit = OrgUnit.objects.filter(code=value.strip()).only("path").first()
        if unit is None:
            return qs.none()
        return qs.filter(org_unit_id__in=OrgUnit.objects.subtree(unit).values("pk"))

    def filter_since(
        self, qs: QuerySet[AuditEntry], name: str, value: dt.date
    ) -> QuerySet[AuditEntry]:
        return qs.filter(ts__gte=_day_start(value))

    def filter_until(
        self, qs: QuerySet[AuditEntry], name: str, value: dt.date
    ) -> QuerySet[AuditEntry]:
        return qs.filter(ts__lt=_day_start(value + dt.timedelta(days=1)))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            css = "form-select" if field.widget.input_type == "select" else "form-control"
            field.widget.attrs.setdefault("class", css)
        self.form.fields["since"].widget.input_type = "date"
        self.form.fields["until"].widget.input_type = "date"
        self.form.fields["object_type"].widget.attrs["list"] = "audit-object-types"

"""Org units API: ``GET /api/v1/org-units/?level=…&parent=CODE`` scoped to the caller."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets

from qc_core.accounts.scope import visible_units
from qc_core.orgs.choices import Level
from qc_core.orgs.models import OrgUnit


class OrgUnitSerializer(serializers.ModelSerializer):
    # "parent" shadows Field.parent for type checkers only; DRF declares it as a normal field.
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)  # type: ignore[assignment,var-annotated]
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    hospital_level_display = serializers.CharField(
        source="get_hospital_level_display", read_only=True
    )

    class Meta:
        model = OrgUnit
        fields = [
            "code",
            "name",
            "level",
            "level_display",
            "kind",
            "parent",
            "path",
            "credit_code",
            "hospital_level",
            "hospital_level_display",
            "is_member",
            "member_since",
            "member_until",
            "is_active",
        ]


class OrgUnitFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Level.choices)
    parent = django_filters.CharFilter(field_name="parent__code", label=_("上级单位代码"))
    within = django_filters.CharFilter(
        method="filter_within", label=_("某单位的整个下级（含自身）")
    )
    q = django_filters.CharFilter(method="filter_q", label=_("按代码或名称搜索"))

    class Meta:
        model = OrgUnit
        fields = ["level", "parent", "is_member", "is_active", "hospital_level"]

    def filter_within(self, qs: Any, name: str, value: str) -> Any:
        unit = OrgUnit.objects.filter(code=value).first()
        return qs.subtree(unit) if unit else qs.none()

    def filter_q(self, qs: Any, name: str, value: str) -> Any:
        from qc_core.orgs.services import search_q

        return qs.filter(search_q(value))


class OrgUnitViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrgUnitSerializer
    filterset_class = OrgUnitFilter
    lookup_field = "code"
    ordering_fields = ["code", "name", "path"]

    def get_queryset(self) -> Any:
        return visible_units(self.request.user).select_related("parent").order_by("path")

"""Indicator library API: ``GET /api/v1/indicators/`` and ``GET /api/v1/datasets/`` (read-only;
QC roles and unit tokens)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from qc_core.accounts.tokens import UnitAwareThrottle, UnitTokenPrincipal
from qc_core.indicators.choices import QC_ROLES, IndicatorSet, Kind, Status
from qc_core.indicators.models import DataSet, DataSetItem, Indicator
from qc_core.system.permissions import user_has_any_role


class QcThrottle(UnitAwareThrottle, UserRateThrottle):
    """Per user, and per token for unit API tokens."""


QC_THROTTLES = [AnonRateThrottle, QcThrottle]


class QcReader(BasePermission):
    """Any QC role (center, sub-center, reporter, leader, official) or a unit API token."""

    message = _("您没有查看质控数据的权限。")

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if isinstance(user, UnitTokenPrincipal):
            return True
        return user_has_any_role(user, QC_ROLES)


class IndicatorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="current_version.name")
    version = serializers.IntegerField(source="current_version.version")
    set = serializers.CharField(source="current_version.set")
    kind = serializers.CharField(source="current_version.kind")
    numerator_def = serializers.CharField(source="current_version.numerator_def")
    denominator_def = serializers.CharField(source="current_version.denominator_def")
    unit = serializers.CharField(source="current_version.unit")
    multiplier = serializers.DecimalField(
        source="current_version.multiplier", max_digits=6, decimal_places=0
    )
    direction = serializers.CharField(source="current_version.direction")
    target = serializers.DecimalField(
        source="current_version.target", max_digits=18, decimal_places=4, allow_null=True
    )
    warning_threshold = serializers.DecimalField(
        source="current_version.warning_threshold", max_digits=18, decimal_places=4, allow_null=True
    )
    basis = serializers.CharField(source="current_version.basis")
    status = serializers.CharField(source="current_version.status")
    status_display = serializers.CharField(source="current_version.get_status_display")
    integer_only = serializers.BooleanField(source="current_version.integer_only")
    effective_from = serializers.DateField(source="current_version.effective_from")

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name",
            "version",
            "set",
            "kind",
            "numerator_def",
            "denominator_def",
            "unit",
            "multiplier",
            "direction",
            "target",
            "warning_threshold",
            "basis",
            "status",
            "status_display",
            "integer_only",
            "effective_from",
            "is_active",
        ]


class IndicatorFilter(django_filters.FilterSet):
    set = django_filters.ChoiceFilter(
        field_name="current_version__set", choices=IndicatorSet.choices
    )
    kind = django_filters.ChoiceFilter(field_name="current_version__kind", choices=Kind.choices)
    status = django_filters.ChoiceFilter(
        field_name="current_version__status", choices=Status.choices
    )
    dataset = django_filters.CharFilter(field_name="datasets__code", label=_("报表代码"))

    class Meta:
        model = Indicator
        fields = ["set", "kind", "status", "is_active", "dataset"]


class IndicatorViewSet(viewsets.ReadOnlyModelViewSet):
    """The indicator library with each indicator's current definition."""

    serializer_class = IndicatorSerializer
    permission_classes = [QcReader]
    throttle_classes = QC_THROTTLES
    filterset_class = IndicatorFilter
    lookup_field = "code"
    ordering_fields = ["code", "sort_order"]

    def get_queryset(self) -> Any:
        return Indicator.objects.filter(current_version__isnull=False).select_related(
            "current_version"
        )


class DataSetItemSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator.code")
    name = serializers.CharField(source="indicator.current_version.name", default="")

    class Meta:
        model = DataSetItem
        fields = ["indicator", "name", "order", "required"]


class DataSetSerializer(serializers.ModelSerializer):
    items = DataSetItemSerializer(many=True, read_only=True)
    period_type_display = serializers.CharField(source="get_period_type_display")

    class Meta:
        model = DataSet
        fields = [
            "code",
            "name",
            "period_type",
            "period_type_display",
            "due_days",
            "lock_days",
            "subcenter_review",
            "is_active",
            "description",
            "items",
        ]


class DataSetViewSet(viewsets.ReadOnlyModelViewSet):
    """Reporting forms with their indicators in order."""

    serializer_class = DataSetSerializer
    permission_classes = [QcReader]
    throttle_classes = QC_THROTTLES
    lookup_field = "code"
    filterset_fields = ["period_type", "is_active"]

    def get_queryset(self) -> Any:
        items = DataSetItem.objects.select_related("indicator__current_version").order_by(
            "order", "id"
        )
        return DataSet.objects.prefetch_related(Prefetch("items", queryset=items)).order_by("code")


__all__ = ["QC_ROLES", "QC_THROTTLES", "DataSetViewSet", "IndicatorViewSet", "QcReader"]

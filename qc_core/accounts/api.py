"""Accounts API: token sign-in, the caller's identity and scope, and a scoped user list."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from qc_core.accounts.choices import USER_ADMIN_ROLES
from qc_core.accounts.models import RoleAssignment, User
from qc_core.accounts.scope import user_scope, visible_users
from qc_core.system.permissions import HasAnyRole


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=gettext_lazy("用户名"))
    password = serializers.CharField(
        label=gettext_lazy("密码"), style={"input_type": "password"}, trim_whitespace=False
    )


class TokenView(APIView):
    """Exchange a username and password for an API token (``Authorization: Token …``)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            if getattr(request._request, "axes_locked_out", False):
                from qc_core.accounts.views import lockout_message

                return Response(
                    {"status": 403, "code": "account_locked", "message": lockout_message()},
                    status=status.HTTP_403_FORBIDDEN,
                )
            return Response(
                {"status": 400, "code": "invalid_credentials", "message": _("用户名或密码错误。")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if getattr(user, "must_change_password", False):
            return Response(
                {
                    "status": 403,
                    "code": "password_change_required",
                    "message": _("请先登录网页修改初始密码，再使用 API。"),
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class RoleAssignmentSerializer(serializers.ModelSerializer):
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    org_unit: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True, default=None)

    class Meta:
        model = RoleAssignment
        fields = ["role", "role_display", "org_unit", "org_unit_name"]


class UserSerializer(serializers.ModelSerializer):
    roles = RoleAssignmentSerializer(source="role_assignments", many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "email", "is_active", "roles"]


class MeView(APIView):
    """The calling user, their roles and their data scope."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "user": UserSerializer(),
                "scope": inline_serializer(
                    "Scope",
                    {
                        "everything": serializers.BooleanField(),
                        "units": serializers.ListField(child=serializers.CharField()),
                    },
                ),
            },
        )
    )
    def get(self, request: Request) -> Response:
        user = request.user
        scope = user_scope(user)
        roots = [p.rstrip("/").split("/")[-1] for p in scope.paths]
        return Response(
            {
                "user": UserSerializer(user).data,
                "scope": {"everything": scope.everything, "units": roots},
            }
        )


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Accounts inside the caller's scope (user administrators only)."""

    serializer_class = UserSerializer
    permission_classes = [HasAnyRole.of(*USER_ADMIN_ROLES)]
    filterset_fields = ["is_active", "role_assignments__role"]
    ordering_fields = ["username"]

    def get_queryset(self) -> Any:
        return (
            visible_users(self.request.user)
            .prefetch_related("role_assignments__org_unit")
            .order_by("username")
        )

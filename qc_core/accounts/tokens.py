"""Per-unit API tokens for hospital systems (HIS/EMR integration).

A token belongs to one institution and lets a machine write that unit's drafts — nothing else (no
submit, approve, return or reopen; reads limited to that unit). It is presented as
``Authorization: Token gqu_<key>``. Only the SHA-256 of the key is stored; the key itself is shown
once, when the token is created.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qc_core.system import clock

KEY_PREFIX = "gqu_"
# Characters of the key kept in clear to recognise a token in lists (prefix included).
SHOWN_CHARS = 12


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class UnitApiTokenQuerySet(models.QuerySet["UnitApiToken"]):
    def active(self) -> UnitApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class UnitApiToken(models.Model):
    """A machine credential of one unit, limited to writing that unit's drafts."""

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("单位")
    )
    name = models.CharField(_("名称"), max_length=100, help_text=_("如：HIS 系统接口"))
    key_hash = models.CharField(_("密钥哈希"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("密钥前缀"), max_length=16, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    objects = UnitApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("单位接口令牌")
        verbose_name_plural = _("单位接口令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def issue(cls, org_unit: Any, name: str, created_by: Any = None) -> tuple[UnitApiToken, str]:
        """Create a token; returns it with the clear key (shown once, never stored)."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            org_unit=org_unit,
            name=name,
            key_hash=hash_key(key),
            prefix=key[:SHOWN_CHARS],
            created_by=created_by,
        )
        return token, key


class UnitTokenPrincipal:
    """The ``request.user`` of a call made with a unit token: authenticated, but with no role and
    no data scope of its own — views recognise ``request.auth`` as a :class:`UnitApiToken` and
    allow exactly that unit's drafts."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None
    id = None
    must_change_password = False
    email = ""
    # The scope module reads this cache: no role assignments (and /me/ lists none).
    _scope_assignments: tuple[Any, ...] = ()
    role_assignments: tuple[Any, ...] = ()

    def __init__(self, token: UnitApiToken) -> None:
        self.token = token
        self.org_unit = token.org_unit
        self._role_set: set[str] = set()

    def __str__(self) -> str:
        return self.get_username()

    def get_username(self) -> str:
        return f"api:{self.token.prefix}"

    @property
    def username(self) -> str:
        return self.get_username()

    def get_full_name(self) -> str:
        return f"{self.token.name}（{self.org_unit.name}）"

    @property
    def full_name(self) -> str:
        return self.get_full_name()

    @property
    def role_set(self) -> set[str]:
        return set()

    def has_role(self, *roles: str) -> bool:
        return False

    def has_perm(self, *args: Any, **kwargs: Any) -> bool:
        return False


# Refresh ``last_used_at`` at most this often (one conditional UPDATE, not one per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def authenticate_unit_token(key: str) -> tuple[UnitTokenPrincipal, UnitApiToken]:
    """Resolve a ``gqu_`` key for DRF: ``(principal, token)`` or ``AuthenticationFailed``."""
    from rest_framework import exceptions

    token = (
        UnitApiToken.objects.active()
        .select_related("org_unit")
        .filter(key_hash=hash_key(key))
        .first()
    )
    if token is None or not token.org_unit.is_active:
        raise exceptions.AuthenticationFailed(_("接口令牌无效或已吊销。"))
    now = clock.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        UnitApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return UnitTokenPrincipal(token), token


def issue_unit_token(org_unit: Any, name: str, created_by: Any) -> tuple[UnitApiToken, str]:
    """Create a token for an institution (audited through the registry); returns the token and
    its clear key, which is never stored and must be shown to the admin once."""
    from qc_core.orgs.choices import Level

    name = (name or "").strip()
    if org_unit.level != Level.INSTITUTION:
        raise ValueError(
            _("接口令牌只能发给医疗机构（当前单位层级：%(l)s）。")
            % {"l": org_unit.get_level_display()}
        )
    if not name:
        raise ValueError(_("请填写令牌名称。"))
    return UnitApiToken.issue(org_unit, name, created_by)


def revoke_unit_token(token: UnitApiToken, user: Any) -> UnitApiToken:
    """Revoke a token (idempotent; audited through the registry)."""
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
    return token


class UnitAwareThrottle:
    """Mixin for DRF user-rate throttles: a unit token is rated per token (its principal has no
    primary key, so the default key would put every token in one bucket)."""

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.user, UnitTokenPrincipal):
            return self.cache_format % {  # type: ignore[attr-defined]
                "scope": self.scope,  # type: ignore[attr-defined]
                "ident": f"unit-token-{request.user.token.pk}",
            }
        return super().get_cache_key(request, view)  # type: ignore[misc,no-any-return]

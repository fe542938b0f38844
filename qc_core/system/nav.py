"""Role-aware navigation. Each app registers its entries in ``AppConfig.ready``; the base layout
shows those whose roles the user holds, grouped by section."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    section: str | Promise
    roles: frozenset[str] = field(default_factory=frozenset)  # empty: any signed-in user
    icon: str = ""
    staff_only: bool = False
    order: int = 100


_REGISTRY: dict[str, NavItem] = {}


def register(*items: NavItem) -> None:
    for item in items:
        _REGISTRY[item.key] = item


def items_for(user: Any) -> list[dict[str, Any]]:
    """Sections with their entries visible to ``user``: ``[{"section": …, "items": [...]}]``."""
    if not user.is_authenticated:
        return []
    roles = user.role_set
    sections: dict[str, list[dict[str, Any]]] = {}
    for item in sorted(_REGISTRY.values(), key=lambda i: (i.order, i.key)):
        if item.staff_only and not user.is_staff:
            continue
        if item.roles and not user.is_superuser and not roles.intersection(item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        sections.setdefault(str(item.section), []).append(
            {"key": item.key, "label": item.label, "url": url, "icon": item.icon}
        )
    return [{"section": s, "items": entries} for s, entries in sections.items()]

"""Operations on the org tree."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from qc_core.orgs.choices import PARENT_LEVELS, Level
from qc_core.orgs.models import OrgUnit

DIVISIONS_CSV = Path(__file__).resolve().parent / "data" / "yunnan_divisions.csv"
TREE_CACHE_KEY = "orgs:tree:v1"


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def check_parent(level: str, parent: OrgUnit | None) -> None:
    """Raise ValidationError when ``parent`` may not hold a unit of ``level``."""
    allowed = PARENT_LEVELS[level]
    if parent is None:
        if allowed:
            raise ValidationError({"parent": _("该层级的单位必须有上级。")})
        return
    if parent.level not in allowed:
        raise ValidationError(
            {
                "parent": _("“%(parent)s”（%(plevel)s）不能作为%(level)s的上级。")
                % {
                    "parent": parent.name,
                    "plevel": parent.get_level_display(),
                    "level": Level(level).label,
                }
            }
        )


@transaction.atomic
def load_divisions(path: Path = DIVISIONS_CSV) -> LoadResult:
    """Create or update the administrative divisions from the bundled GB/T 2260 list. Idempotent.

    New divisions are inserted level by level in bulk and recorded as one audit entry (a reference
    data load, not 146 separate edits); changed ones go through the normal audited save.
    """
    from qc_core.audit.choices import Action
    from qc_core.audit.services import record

    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    existing = {u.code: u for u in OrgUnit.objects.filter(code__in=[r["code"] for r in rows])}
    created = updated = unchanged = 0
    for level in (Level.PROVINCE, Level.PREFECTURE, Level.COUNTY):
        fresh: list[OrgUnit] = []
        for row in (r for r in rows if r["level"] == level):
            parent = existing.get(row["parent_code"]) if row["parent_code"] else None
            unit = existing.get(row["code"])
            if unit is None:
                check_parent(level, parent)
                unit = OrgUnit(
                    code=row["code"], name=row["name"], level=level, kind=row["kind"], parent=parent
                )
                unit.path = unit.compute_path()
                unit.depth = unit.path.count("/") - 1
                fresh.append(unit)
                continue
            same_parent = unit.parent_id == (parent.pk if parent else None)
            if (unit.name, unit.level, unit.kind) == (
                row["name"],
                row["level"],
                row["kind"],
            ) and same_parent:
                unchanged += 1
                continue
            if not same_parent:
                move_unit(unit, parent)
            unit.name, unit.level, unit.kind = row["name"], row["level"], row["kind"]
            unit.save()
            updated += 1
        for unit in OrgUnit.objects.bulk_create(fresh):
            existing[unit.code] = unit
        created += len(fresh)
    if created:
        record(
            Action.CREATE,
            object_type="orgs.orgunit",
            object_repr=_("导入行政区划（GB/T 2260）"),
            extra={"created": created, "source": path.name},
        )
    invalidate_tree_cache()
    return LoadResult(created, updated, unchanged)


@transaction.atomic
def move_unit(unit: OrgUnit, new_parent: OrgUnit | None) -> None:
    """Re-hang ``unit`` (and its whole subtree) under ``new_parent`` with one UPDATE."""
    if new_parent is not None and new_parent.path.startswith(unit.path):
        raise ValidationError({"parent": _("不能把单位移动到它自己的下级之下。")})
    check_parent(unit.level, new_parent)
    old_path = unit.path
    unit.parent = new_parent
    new_path = unit.compute_path()
    depth_delta = new_path.count("/") - old_path.count("/")
    OrgUnit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1)),
        depth=F("depth") + depth_delta,
    )
    unit.path = new_path
    unit.depth = new_path.count("/") - 1
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    invalidate_tree_cache()


def invalidate_tree_cache() -> None:
    cache.delete(TREE_CACHE_KEY)


def build_tree(progress: Callable[[int, str], None] | None = None) -> dict[str, Any]:
    """Build the nested org tree with member-institution counts per node (two queries)."""
    units = list(
        OrgUnit.objects.filter(is_active=True).values(
            "id", "code", "name", "level", "parent_id", "path"
        )
    )
    if progress:
        progress(30, _("已读取 %(n)d 个单位") % {"n": len(units)})
    member_paths = list(OrgUnit.objects.members().values_list("path", flat=True))
    nodes: dict[int, dict[str, Any]] = {}
    for u in units:
        nodes[u["id"]] = {
            "code": u["code"],
            "name": u["name"],
            "level": u["level"],
            "path": u["path"],
            "members": 0,
            "children": [],
        }
    by_code = {n["code"]: n for n in nodes.values()}
    for path in member_paths:
        for code in path.rstrip("/").split("/"):
            if code in by_code:
                by_code[code]["members"] += 1
    if progress:
        progress(70, _("已统计成员单位"))
    roots: list[dict[str, Any]] = []
    for u in units:
        node = nodes[u["id"]]
        parent = nodes.get(u["parent_id"]) if u["parent_id"] else None
        (parent["children"] if parent else roots).append(node)
    return {"roots": roots, "units": len(units), "members": len(member_paths)}


def rebuild_tree_cache(progress: Callable[[int, str], None] | None = None) -> dict[str, Any]:
    """Recompute the cached org tree (used by the tree page); returns a summary."""
    tree = build_tree(progress)
    cache.set(TREE_CACHE_KEY, tree, timeout=None)
    return {"units": tree["units"], "members": tree["members"]}


def cached_tree() -> dict[str, Any] | None:
    return cache.get(TREE_CACHE_KEY)


def level_counts() -> dict[str, int]:
    rows = OrgUnit.objects.values("level").annotate(n=Count("id"))
    return {r["level"]: r["n"] for r in rows}


def search_q(term: str) -> Q:
    return Q(code__icontains=term) | Q(name__icontains=term)

"""The trail is append-only and hash-chained; audit_verify finds the first tampered entry."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from qc_core.audit.admin import AuditEntryAdmin
from qc_core.audit.choices import Action
from qc_core.audit.models import AuditEntry, AuditImmutableError
from qc_core.audit.services import HASH_MISMATCH, LINK_BROKEN, record, verify_chain

pytestmark = pytest.mark.django_db


def make_entries(n: int) -> list[AuditEntry]:
    return [record(Action.OTHER, object_repr=f"条目 {i}", extra={"i": i}) for i in range(n)]


def raw_sql(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_each_entry_links_to_the_previous_hash(db):
    first, second, third = make_entries(3)
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_audit_verify_passes_on_an_untouched_chain(personas):
    make_entries(5)
    out = StringIO()
    call_command("audit_verify", "--batch-size", "7", stdout=out)
    assert f"共校验 {AuditEntry.objects.count()} 条记录" in out.getvalue()


def test_audit_verify_names_the_row_altered_in_the_database(personas):
    entries = make_entries(5)
    victim = entries[2]
    raw_sql("UPDATE audit_auditentry SET object_repr = %s WHERE id = %s", ["篡改", victim.pk])
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_verify", "--batch-size", "2", stdout=StringIO())
    message = str(excinfo.value)
    assert f"id={victim.pk}" in message
    assert "哈希不符" in message


def test_audit_verify_detects_a_deleted_row_at_the_next_entry(db):
    entries = make_entries(4)
    raw_sql("DELETE FROM audit_auditentry WHERE id = %s", [entries[1].pk])
    result = verify_chain()
    assert result.broken is not None
    assert result.broken.entry_id == entries[2].pk
    assert result.broken.reason == LINK_BROKEN


def test_audit_verify_detects_a_rehashed_row_by_the_broken_link(db):
    """GIVEN an attacker who changes a row and also recomputes that row's hash
    THEN the next row's link no longer matches."""
    entries = make_entries(3)
    target = entries[1]
    target.actor_username = "someone-else"
    new_hash = target.compute_hash()
    raw_sql(
        "UPDATE audit_auditentry SET actor_username = %s, hash = %s WHERE id = %s",
        ["someone-else", new_hash, target.pk],
    )
    result = verify_chain()
    assert result.broken.entry_id == entries[2].pk
    assert result.broken.reason == LINK_BROKEN
    assert HASH_MISMATCH != LINK_BROKEN


def test_saving_an_existing_entry_is_refused(db):
    entry = make_entries(1)[0]
    entry.object_repr = "改过"
    with pytest.raises(AuditImmutableError):
        entry.save()


def test_deleting_an_entry_is_refused(db):
    entry = make_entries(1)[0]
    with pytest.raises(AuditImmutableError):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    "operation",
    [
        lambda qs: qs.update(object_repr="x"),
        lambda qs: qs.delete(),
        lambda qs: AuditEntry.objects.bulk_update(list(qs), ["object_repr"]),
        lambda qs: AuditEntry._base_manager.filter(pk__in=qs).update(ip="1.1.1.1"),
    ],
    ids=["update", "delete", "bulk_update", "base_manager_update"],
)
def test_queryset_writes_are_refused(db, operation):
    make_entries(2)
    with pytest.raises(AuditImmutableError):
        operation(AuditEntry.objects.all())
    assert verify_chain().ok


def test_creating_an_entry_around_the_chain_is_refused(db):
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.create(action=Action.OTHER, ts="2026-01-01T00:00:00Z")
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.bulk_create([AuditEntry(action=Action.OTHER)])


def test_admin_is_read_only(rf, personas):
    from django.contrib.admin.sites import site

    admin = AuditEntryAdmin(AuditEntry, site)
    request = rf.get("/")
    request.user = personas.center
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)


def test_admin_changelist_renders_for_a_superuser(personas, client_as):
    personas.nobody.is_superuser = personas.nobody.is_staff = True
    personas.nobody.save()
    make_entries(2)
    response = client_as(personas.nobody).get("/admin/audit/auditentry/")
    assert response.status_code == 200
    assert b"/admin/audit/auditentry/add/" not in response.content


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    """GIVEN four threads, each with its own database connection, appending at once
    THEN every entry links to exactly one predecessor and the chain verifies."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                record(Action.OTHER, object_repr=f"线程 {n} / {i}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEntry.objects.filter(action=Action.OTHER).count() == 60
    prevs = list(AuditEntry.objects.values_list("prev_hash", flat=True))
    assert len(prevs) == len(set(prevs))
    assert verify_chain().ok

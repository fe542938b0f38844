"""What lands in the audit trail: sign-ins, model changes, exports, downloads, refusals."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from qc_core.accounts.models import RoleAssignment
from qc_core.audit.choices import Action
from qc_core.audit.models import AuditEntry
from qc_core.audit.services import record, record_download
from qc_core.orgs.models import OrgUnit
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def latest(**filters) -> AuditEntry:
    return AuditEntry.objects.filter(**filters).order_by("-id").first()


def row_text(entry: AuditEntry) -> str:
    return json.dumps(
        {f.name: str(getattr(entry, f.attname)) for f in AuditEntry._meta.fields},
        ensure_ascii=False,
    )


def test_login_through_the_login_page_records_who_where_and_unit(personas):
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (GeriQC test)")
    response = client.post(
        reverse("accounts:login"), {"username": "reporter_a", "password": PASSWORD}
    )
    assert response.status_code == 302
    entry = latest(action=Action.LOGIN)
    assert entry.actor_id == personas.reporter_a.pk
    assert entry.actor_username == "reporter_a"
    assert entry.ip == "127.0.0.1"
    assert entry.user_agent == "Mozilla/5.0 (GeriQC test)"
    assert entry.org_unit_id == personas.tree.hospital_a.pk


def test_logout_is_recorded(personas):
    client = Client()
    client.post(reverse("accounts:login"), {"username": "center", "password": PASSWORD})
    client.post(reverse("accounts:logout"))
    entry = latest(action=Action.LOGOUT)
    assert entry is not None
    assert entry.actor_username == "center"


def test_failed_login_records_attempted_username_but_never_the_password(personas):
    wrong = "Wr0ng-Secret-Guess!"
    Client().post(reverse("accounts:login"), {"username": "reporter_b", "password": wrong})
    entry = latest(action=Action.LOGIN_FAILED)
    assert entry.actor_id is None
    assert entry.actor_username == "reporter_b"
    assert entry.org_unit_id == personas.tree.hospital_b.pk
    assert wrong not in row_text(entry)


def test_failed_login_for_unknown_account_is_flagged(db):
    Client().post(reverse("accounts:login"), {"username": "ghost", "password": "x"})
    entry = latest(action=Action.LOGIN_FAILED)
    assert entry.actor_username == "ghost"
    assert entry.extra == {"unknown_user": True}


def test_org_unit_change_records_only_changed_fields_before_and_after(personas):
    unit = personas.tree.hospital_a
    old_name = unit.name
    before = AuditEntry.objects.count()
    unit.name = "昆明市第一人民医院（更名）"
    unit.save()
    assert AuditEntry.objects.count() == before + 1
    entry = latest(action=Action.UPDATE, object_type="orgs.orgunit")
    assert entry.object_id == str(unit.pk)
    assert entry.org_unit_id == unit.pk
    assert entry.changes == {"name": [old_name, "昆明市第一人民医院（更名）"]}


def test_save_without_changes_leaves_no_entry(personas):
    before = AuditEntry.objects.count()
    personas.tree.hospital_a.save()
    assert AuditEntry.objects.count() == before


def test_change_made_during_a_request_names_the_signed_in_user(personas, client_as):
    client = client_as(personas.reporter_a)
    response = client.post(
        reverse("accounts:profile"), {"full_name": "王五", "email": "wang@example.org", "phone": ""}
    )
    assert response.status_code == 302
    entry = latest(action=Action.UPDATE, object_type="accounts.user")
    assert entry.actor_username == "reporter_a"
    assert entry.changes["full_name"][1] == "王五"
    assert entry.ip == "127.0.0.1"


def test_password_change_is_recorded_without_any_hash(personas):
    user = personas.engineer
    user.set_password("N3w-Passw0rd-Strong!")
    user.save()
    entry = latest(action=Action.UPDATE, object_type="accounts.user")
    assert entry.changes == {"password": "changed"}
    assert user.password not in row_text(entry)


def test_api_token_is_recorded_without_its_key(personas):
    token = Token.objects.create(user=personas.engineer)
    key = token.key
    entry = latest(object_type="authtoken.token")
    assert entry.action == Action.CREATE
    assert entry.object_id == str(personas.engineer.pk)
    assert key not in row_text(entry)
    token.delete()
    deleted = latest(object_type="authtoken.token", action=Action.DELETE)
    assert key not in row_text(deleted)


def test_role_assignment_delete_records_its_values(personas):
    assignment = RoleAssignment.objects.get(user=personas.reporter_a)
    assignment.delete()
    entry = latest(action=Action.DELETE, object_type="accounts.roleassignment")
    assert entry.org_unit_id == personas.tree.hospital_a.pk
    assert entry.changes["role"] == ["unit_reporter", None]
    assert entry.changes["org_unit"] == [personas.tree.hospital_a.pk, None]


def test_dates_are_stored_as_iso_text(personas):
    unit = personas.tree.hospital_a
    unit.member_since = "2024-01-15"
    unit.save()
    assert latest(action=Action.UPDATE).changes == {"member_since": [None, "2024-01-15"]}


def test_csv_export_streams_bom_csv_and_is_itself_recorded(personas, client_as):
    response = client_as(personas.center).get(reverse("audit:export"), {"action": "login"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff编号,时间,用户,动作")
    lines = body.strip().splitlines()
    # client_as signs the user in, so there is exactly one login entry to export.
    assert len(lines) == 2 and "center" in lines[1] and "登录" in lines[1]
    entry = latest(action=Action.EXPORT)
    assert entry.actor_username == "center"
    assert entry.extra == {"filters": {"action": "login"}, "rows": 1}


def test_csv_cells_that_look_like_formulas_are_defused(personas, client_as):
    record(Action.OTHER, object_repr='=HYPERLINK("http://x")')
    body = b"".join(
        client_as(personas.center).get(reverse("audit:export")).streaming_content
    ).decode()
    assert "'=HYPERLINK" in body


def test_download_is_recorded_with_file_and_object(personas):
    entry = record_download(None, "taskruns/2026/11/report.xlsx", obj=personas.tree.hospital_b)
    assert entry.action == Action.DOWNLOAD
    assert entry.object_type == "orgs.orgunit"
    assert entry.org_unit_id == personas.tree.hospital_b.pk
    assert entry.extra == {"file": "taskruns/2026/11/report.xlsx"}


def test_forbidden_page_for_signed_in_user_is_recorded_as_access_denied(personas, client_as):
    client_as(personas.reporter_a).get(reverse("audit:search"))
    entry = latest(action=Action.ACCESS_DENIED)
    assert entry.actor_username == "reporter_a"
    assert entry.extra == {"method": "GET", "path": reverse("audit:search")}


def test_client_ip_uses_forwarded_for_only_behind_the_tls_proxy(personas, settings):
    headers = {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 10.1.2.3", "REMOTE_ADDR": "10.0.0.1"}
    Client(**headers).post(reverse("accounts:login"), {"username": "center", "password": PASSWORD})
    assert latest(action=Action.LOGIN).ip == "10.0.0.1"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    Client(**headers).post(reverse("accounts:login"), {"username": "center", "password": PASSWORD})
    assert latest(action=Action.LOGIN).ip == "10.1.2.3"


def test_deleting_a_unit_keeps_earlier_entries_intact(personas):
    unit = OrgUnit.objects.create(
        code="HX999", name="临时机构", level="institution", parent=personas.tree.wuhua
    )
    created = latest(action=Action.CREATE, object_type="orgs.orgunit")
    unit.delete()
    created_again = AuditEntry.objects.get(pk=created.pk)
    assert created_again.org_unit_id == created.org_unit_id
    assert latest(action=Action.DELETE).object_repr.startswith("临时机构")

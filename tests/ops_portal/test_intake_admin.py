"""The ops manager's view of received e-mail: raw download (audited) and retrying failed ones."""

from typing import Any

import pytest
from django.test import Client

from ops_portal.intake.choices import InboundStatus
from ops_portal.intake.email import ingest, store
from ops_portal.models import InboundEmail, Ticket
from qc_core.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

GOOD = (
    b"From: =?utf-8?b?5byg5LiJ?= <zhangsan@hospital.example.cn>\r\n"
    b"To: ops@geriqc.example.cn\r\nSubject: =?utf-8?b?57O757uf5peg5rOV55m75b2V?=\r\n"
    b"Message-ID: <retry-1@hospital.example.cn>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    + "登录页面打不开。".encode()
    + b"\r\n"
)


@pytest.fixture
def admin_client(django_user_model: Any) -> Client:
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "x")
    client = Client()
    client.force_login(admin)
    return client


def test_failed_mail_is_listed_and_its_raw_message_downloadable(
    admin_client: Client, personas: Any
) -> None:
    junk = b"\x00\x01 not a mail \xff\r\n\r\n"
    inbound = ingest(junk)
    assert inbound.status == InboundStatus.FAILED
    assert admin_client.get("/admin/ops_portal/inboundemail/").status_code == 200
    assert (
        admin_client.get(f"/admin/ops_portal/inboundemail/{inbound.pk}/change/").status_code == 200
    )
    response = admin_client.get(f"/admin/ops_portal/inboundemail/{inbound.pk}/raw/")
    assert response.status_code == 200
    assert response.content == junk
    assert AuditEntry.objects.filter(action="download", object_id=str(inbound.pk)).exists()


def test_retrying_a_failed_mail_runs_the_intake_again(admin_client: Client, personas: Any) -> None:
    inbound = store(GOOD)
    InboundEmail.objects.filter(pk=inbound.pk).update(
        status=InboundStatus.FAILED, error="SMTP down"
    )
    response = admin_client.post(
        "/admin/ops_portal/inboundemail/",
        {"action": "retry_failed", "_selected_action": [inbound.pk]},
        follow=True,
    )
    assert response.status_code == 200
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.CREATED
    assert Ticket.objects.filter(pk=inbound.ticket_id, channel="email").exists()


def test_outsiders_cannot_download_raw_mail(personas: Any) -> None:
    inbound = store(GOOD)
    client = Client()
    client.force_login(personas.reporter_a)
    response = client.get(f"/admin/ops_portal/inboundemail/{inbound.pk}/raw/")
    assert response.status_code == 302  # the admin sends non-staff users to its login page
    assert "/admin/login/" in response["Location"]

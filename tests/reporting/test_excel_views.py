"""The Excel pages: upload → preview → commit, refusals shown with their location, permission
per persona, and workbooks with many units handled as background jobs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qc_core.system.models import TaskRun
from tests.reporting.excel_helpers import db_state, fill, template, values_of, workbook

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client, data, url="/qc/excel/import/", name="模板.xlsx", **extra):
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type=XLSX), **extra})


def test_upload_shows_a_preview_and_commit_writes_it(qc, client_as):
    client = client_as(qc.p.reporter_a)
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": (45, 60, "含转入")})
    url = "/qc/excel/import/?unit=HA001&dataset=GER-Q&period=2026Q3"
    assert "本次上传用于" in client.get(url).content.decode()
    response = _upload(client, data, url)
    assert response.status_code == 302
    preview = client.get(response["Location"])
    html = preview.content.decode()
    assert preview.status_code == 200 and 'id="import-commit"' in html
    assert 'data-change="GER-P01:numerator"' in html and "含转入" in html
    assert values_of(qc.p.tree.hospital_a) == {}
    commit = client.post(response["Location"] + "commit/")
    assert commit.status_code == 302
    result = client.get(commit["Location"]).content.decode()
    assert 'id="import-committed"' in result
    assert values_of(qc.p.tree.hospital_a)["GER-P01"] == (Decimal(45), Decimal(60), "含转入")
    # Committing twice does nothing more.
    client.post(response["Location"] + "commit/")
    assert qc.draft().row_version == 1


def test_preview_with_errors_lists_them_and_cannot_be_committed(qc, client_as):
    client = client_as(qc.p.reporter_a)
    data = fill(
        template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": ("12.5%", 60), "GER-P02": (1, 2)}
    )
    response = _upload(client, data)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'id="import-errors"' in html and "（分子）：“12.5%”是百分比" in html
    assert 'id="import-commit"' not in html
    before = db_state()
    client.post(response["Location"] + "commit/")
    assert db_state() == before


@pytest.mark.parametrize(("name", "content", "message"), [
    ("data.csv", b"a,b\n1,2\n", "只接受 Excel .xlsx 工作簿"),
    ("data.xlsx", b"not a zip", "不是有效的 .xlsx 工作簿"),
])  # fmt: skip
def test_files_that_cannot_be_read_are_refused_on_the_form(qc, client_as, name, content, message):
    response = _upload(client_as(qc.p.reporter_a), content, name=name)
    assert response.status_code == 400 and message in response.content.decode()


def test_oversized_upload_is_refused_before_reading(qc, client_as, settings):
    settings.QC_EXCEL_MAX_UPLOAD_BYTES = 2048
    response = _upload(client_as(qc.p.reporter_a), template(qc.p.tree.hospital_a, qc.ger))
    assert response.status_code == 400 and "文件过大" in response.content.decode()


def test_reporter_cannot_import_for_another_unit(qc, client_as):
    client = client_as(qc.p.reporter_a)
    data = fill(template(qc.p.tree.hospital_b, qc.ger), {"GER-P01": (1, 2)})
    assert client.get("/qc/excel/import/?unit=HB001").status_code == 404
    assert _upload(client, data, "/qc/excel/import/?unit=HB001").status_code == 404
    response = _upload(client, data)
    page = client.get(response["Location"])
    assert page.status_code == 404 and "不存在，或您无权访问该单位" in page.content.decode()
    assert client.post(response["Location"] + "commit/").status_code == 302
    assert values_of(qc.p.tree.hospital_b) == {}


@pytest.mark.parametrize(
    "persona", ["leader_a", "official", "subcenter", "expert", "engineer", "nobody"]
)
def test_people_who_cannot_write_data_cannot_use_the_import(qc, client_as, persona):
    client = client_as(getattr(qc.p, persona))
    assert client.get("/qc/excel/").status_code == 403
    assert client.get("/qc/excel/import/").status_code == 403
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": (1, 2)})
    assert _upload(client, data).status_code == 403
    assert values_of(qc.p.tree.hospital_a) == {}


def test_another_users_upload_cannot_be_seen_or_committed(qc, client_as):
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": (1, 2)})
    response = _upload(client_as(qc.p.reporter_a), data)
    other = client_as(qc.p.center)
    assert other.get(response["Location"]).status_code == 404
    assert other.post(response["Location"] + "commit/").status_code == 404
    assert values_of(qc.p.tree.hospital_a) == {}


def test_a_workbook_with_many_units_is_previewed_and_imported_as_a_job(
    qc, client_as, settings, django_capture_on_commit_callbacks
):
    settings.QC_EXCEL_INLINE_UNITS = 1
    client = client_as(qc.p.center)
    rows = [("HA001", "2026Q3", "GER-P01", 45, 60, ""), ("HB001", "2026Q3", "GER-P01", 30, 50, "")]
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, workbook(rows))
    run = TaskRun.objects.get(name="reporting.excel_import")
    assert run.status == "succeeded" and run.result["dry_run"] and run.result["ok"]
    assert values_of(qc.p.tree.hospital_a) == {}
    page = client.get(response["Location"]).content.decode()
    assert 'id="import-commit"' in page and 'data-unit="HB001"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"] + "commit/")
    commit_run = TaskRun.objects.exclude(pk=run.pk).get()
    assert commit_run.status == "succeeded" and commit_run.result["committed"]
    assert values_of(qc.p.tree.hospital_b)["GER-P01"][:2] == (Decimal(30), Decimal(50))
    assert 'id="import-committed"' in client.get(response["Location"]).content.decode()


def test_a_refused_import_job_fails_and_keeps_the_database_unchanged(
    qc, client_as, settings, django_capture_on_commit_callbacks
):
    settings.QC_EXCEL_INLINE_UNITS = 1
    settings.CELERY_TASK_EAGER_PROPAGATES = (
        False  # a worker records the failure, not the web request
    )
    client = client_as(qc.p.center)
    rows = [("HA001", "2026Q3", "GER-P01", 45, 60, ""), ("HB001", "2026Q3", "GER-P01", 30, 50, "")]
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, workbook(rows))
    preview_run = TaskRun.objects.get(name="reporting.excel_import")
    # Between preview and commit, B's form is approved: the commit job must refuse it all.
    sub = qc.submitted(qc.p.tree.hospital_b)
    from qc_core.reporting import services

    services.approve(sub, qc.p.center)
    before = db_state()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"] + "commit/")
    run = TaskRun.objects.exclude(pk=preview_run.pk).get(name="reporting.excel_import")
    assert run.status == "failed" and "数据库未做任何修改" in run.error
    assert db_state() == before
    page = client.get(response["Location"]).content.decode()
    assert "该报表已审核通过" in page


def test_job_results_list_a_limited_number_of_changes_per_unit(
    qc, client_as, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from qc_core.reporting.excel import tasks

    settings.QC_EXCEL_INLINE_UNITS = 1
    monkeypatch.setattr(tasks, "JOB_LIST_LIMIT", 1)
    client = client_as(qc.p.center)
    rows = [("HA001", "2026Q3", "GER-P01", 45, 60, ""), ("HB001", "2026Q3", "GER-P01", 30, 50, "")]
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, workbook(rows))
    page = client.get(response["Location"]).content.decode()
    assert page.count("共 2 处变更，此处列出前 1 处。") == 2

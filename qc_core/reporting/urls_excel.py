"""URL patterns of the Excel pages (template, import, export); included from
:mod:`qc_core.reporting.urls` at ``excel/`` (namespace ``reporting``)."""

from django.urls import path

from qc_core.reporting import views_excel

urlpatterns = [
    path("", views_excel.excel_home, name="excel_home"),
    path("template/", views_excel.excel_template_pick, name="excel_template_pick"),
    path(
        "template/<str:unit>/<str:dataset>/<str:period>/",
        views_excel.excel_template,
        name="excel_template",
    ),
    path("import/", views_excel.excel_import, name="excel_import"),
    path("import/<str:token>/", views_excel.excel_import_status, name="excel_import_status"),
    path("import/<str:token>/commit/", views_excel.excel_import_commit, name="excel_import_commit"),
    path("export/", views_excel.excel_export_view, name="excel_export"),
]

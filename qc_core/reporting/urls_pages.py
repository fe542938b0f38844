"""URL patterns of the reporting pages for units (home, data entry) and reviewers; included
from :mod:`qc_core.reporting.urls` (namespace ``reporting``)."""

from django.urls import path

from qc_core.reporting import views_entry, views_review

FORM = "entry/<str:unit>/<str:dataset>/<str:period>/"

urlpatterns = [
    path("", views_entry.home, name="home"),
    path(FORM, views_entry.entry, name="entry"),
    path(f"{FORM}save/", views_entry.entry_save, name="entry_save"),
    path(f"{FORM}submit/", views_entry.entry_submit, name="entry_submit"),
    path(f"{FORM}history/<str:code>/", views_entry.value_history, name="value_history"),
    path("review/", views_review.review_list, name="review_list"),
    path("submissions/<int:pk>/", views_review.submission_detail, name="submission_detail"),
    path("submissions/<int:pk>/approve/", views_review.review_approve, name="review_approve"),
    path("submissions/<int:pk>/return/", views_review.review_return, name="review_return"),
    path("submissions/<int:pk>/reopen/", views_review.review_reopen, name="review_reopen"),
]

"""Screens of this area (included by inventory.urls in the inventory namespace)."""

from django.urls import path

from inventory.counts import views

urlpatterns = [
    path("", views.counts, name="counts"),
    path("<int:session_id>/", views.count, name="count"),
    path("<int:session_id>/lines/<int:line_id>/", views.count_line, name="count-line"),
    path("<int:session_id>/found/", views.count_found, name="count-found"),
    path("<int:session_id>/submit/", views.count_submit, name="count-submit"),
    path("<int:session_id>/review/", views.count_review_page, name="count-review"),
    path("<int:session_id>/post/", views.count_post, name="count-post"),
    path("<int:session_id>/cancel/", views.count_cancel, name="count-cancel"),
]

"""Reorder rules, edited by managers."""

from django.http import Http404
from django.urls import path


def rule_list(request):
    raise Http404


urlpatterns = [
    path("reports/reorder-rules/", rule_list, name="reorder-rules"),
]

"""The manager dashboard at ``/reports/``."""

from django.http import Http404


def dashboard(request):
    raise Http404

"""One screen per report, each with its CSV export."""

from django.http import Http404
from django.urls import path


def not_built(request):
    raise Http404


urlpatterns = [
    path("reports/abc/", not_built, name="abc"),
    path("reports/abc.csv", not_built, name="abc-csv"),
    path("reports/aging/", not_built, name="aging"),
    path("reports/aging.csv", not_built, name="aging-csv"),
    path("reports/turnover/", not_built, name="turnover"),
    path("reports/turnover.csv", not_built, name="turnover-csv"),
    path("reports/demand/", not_built, name="demand"),
    path("reports/demand.csv", not_built, name="demand-csv"),
    path("reports/history/", not_built, name="history"),
    path("reports/history.csv", not_built, name="history-csv"),
    path("reports/valuation/", not_built, name="valuation"),
    path("reports/valuation.csv", not_built, name="valuation-csv"),
    path("reports/stock-outs/", not_built, name="stock-outs"),
    path("reports/stock-outs.csv", not_built, name="stock-outs-csv"),
    path("reports/low-stock/", not_built, name="low-stock"),
    path("reports/low-stock.csv", not_built, name="low-stock-csv"),
]

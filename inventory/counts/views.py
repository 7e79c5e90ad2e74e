"""Count screens: the list with its start form, the blind counting sheet, the review.

Every action is a ``write_screen`` view: it reads in ``acting_for`` moments
and writes through the write policy, answering htmx with the region it
changed (422 when refused, the message in place) and a plain POST with a
redirect and a message.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url

from inventory.core.errors import DomainError, NotFound
from inventory.core.writes import acting_for, write, write_idempotent, write_screen
from inventory.counts.errors import CountOverlaps
from inventory.counts.forms import CountFilter, CountLineForm, FoundLotForm, StartCountForm
from inventory.counts.selectors import (
    count_bins,
    count_progress,
    count_review,
    count_sessions,
    counting_lines,
    get_count,
    review_lines,
    walking_position,
)
from inventory.counts.services import (
    add_found_lot,
    cancel_count,
    post_count_session,
    save_count_line,
    start_count,
    submit_count,
)
from inventory.counts.tables import CountTable, ReviewTable
from inventory.models import CountLine, CountStatus
from inventory.templatetags.stock import money
from inventory.web.tables import configure_table, render_region
from warehouse.access import role_required
from warehouse.models import Role

COUNTERS = (Role.OPERATOR, Role.MANAGER)
LIST_TEMPLATE = "inventory/counts/list.html"
SHEET_TEMPLATE = "inventory/counts/count.html"
REVIEW_TEMPLATE = "inventory/counts/review.html"


def _count_or_404(session_id):
    try:
        return get_count(session_id)
    except NotFound:
        raise Http404("No such count.") from None


def _problems(form) -> str:
    return " ".join(message for errors in form.errors.values() for message in errors)


def _is_manager(request) -> bool:
    return request.membership.has_role(Role.MANAGER)


# -- the list and the start form --------------------------------------------------------


def _start_payload(data: dict) -> dict:
    return {
        "warehouse": data["warehouse"].pk,
        "locations": [location.pk for location in data["locations"]],
        "product": data["product"].pk if data["product"] else None,
    }


def _start_count(request, data: dict, operation) -> tuple[int, dict]:
    session = start_count(
        tenant=request.tenant,
        warehouse=data["warehouse"],
        user=request.user,
        locations=data["locations"],
        product=data["product"],
    )
    return 201, {"session_id": session.pk}


@write_screen
@role_required(*COUNTERS)
def counts(request):
    """Every count (filter, sort, page) and the form that starts one."""
    with acting_for(request):
        form = StartCountForm(request.POST if request.method == "POST" else None)
        is_submitted = request.method == "POST" and form.is_valid()
    if is_submitted:
        data = form.cleaned_data
        try:
            outcome = write_idempotent(
                tenant=request.tenant,
                key=data["idempotency_key"],
                kind="count-start",
                payload=_start_payload(data),
                perform=functools.partial(_start_count, request, data),
            )
        except CountOverlaps as error:
            form.add_error("sku" if data["product"] else "bins", error.message)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            # A double submit replays the first answer: the same count opens.
            url = reverse("inventory:count", args=[outcome.body["session_id"]])
            messages.success(request, f"Count {outcome.body['session_id']} started.")
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    with acting_for(request):
        filters = CountFilter(request.GET, queryset=count_sessions(), request=request)
        table = configure_table(request, CountTable(filters.qs))
        if request.GET.get("status") or request.GET.get("warehouse"):
            table.empty_text = "No counts match these filters. Choose another status or warehouse."
        region = "start-form" if request.method == "POST" else "counts-table"
        return render_region(
            request,
            LIST_TEMPLATE,
            region,
            {"form": form, "filters": filters, "table": table},
            status=422 if form.errors else 200,
        )


# -- counting ---------------------------------------------------------------------------

# Lines on one page of the counting sheet; a setting so a test can page a short count.
SHEET_PAGE_SIZE = 50


def _sheet_page_size() -> int:
    return getattr(settings, "COUNT_SHEET_PAGE_SIZE", SHEET_PAGE_SIZE)


def _page_number(value) -> int | None:
    """A page number from a link or form, bounded before it costs anything; else ``None``."""
    value = value or ""
    if value.isascii() and value.isdigit() and len(value) <= 6:
        return max(int(value), 1)
    return None


def _page_holding(session, *, line_id: int | None = None) -> int | None:
    """The sheet page that shows line ``line_id``, or the first line not counted yet."""
    position = walking_position(session, line_id=line_id)
    return None if position is None else (position - 1) // _sheet_page_size() + 1


def _sheet_url(session, page_number: int | None) -> str:
    # Only a validated number reaches the query string: nothing posted can redirect elsewhere.
    url = reverse("inventory:count", args=[session.pk])
    return f"{url}?page={page_number}" if page_number else url


def _sheet_context(
    request, session, *, page_number: int | None, found_form=None, sheet_error=None
) -> dict:
    """One page of the sheet (a page past the end shows the last), with the whole count's progress.

    With no page asked for, the sheet opens where counting goes on: the page
    of the first line not counted yet.
    """
    if page_number is None:
        page_number = _page_holding(session) or 1
    paginator = Paginator(counting_lines(session), _sheet_page_size())
    page = paginator.get_page(page_number)
    return {
        "session": session,
        "page": page,
        "page_number": page.number,
        "page_range": list(paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)),
        "lines": page.object_list,
        "progress": count_progress(session),
        "bins": count_bins(session) if session.product_id is None else [],
        "found_form": found_form or FoundLotForm(session=session),
        "sheet_error": sheet_error,
        "is_manager": _is_manager(request),
    }


@role_required(*COUNTERS)
def count(request, session_id: int):
    """The blind counting sheet, a page of lines at a time: no expected quantity anywhere."""
    session = _count_or_404(session_id)
    if session.status != CountStatus.OPEN:
        return redirect("inventory:count-review", session.pk)
    page_number = request.GET.get("page")
    context = _sheet_context(
        request,
        session,
        # A page number that is no number shows page 1; no page at all resumes counting.
        page_number=None if page_number is None else (_page_number(page_number) or 1),
    )
    return render_region(request, SHEET_TEMPLATE, "count-sheet", context)


@write_screen
@require_POST
@role_required(*COUNTERS)
def count_line(request, session_id: int, line_id: int):
    """Save one counted line as it is entered (Enter saves and moves to the next line)."""
    with acting_for(request):
        session = _count_or_404(session_id)
        if not CountLine.objects.filter(pk=line_id, session=session).exists():
            raise Http404("No such line.")
    form = CountLineForm(request.POST)
    page_number = _page_number(request.POST.get("page"))
    error = None
    if form.is_valid():
        try:
            write(
                save_count_line,
                tenant=request.tenant,
                session=session,
                line_id=line_id,
                quantity=form.cleaned_data["counted"],
                user=request.user,
            )
        except DomainError as failure:
            error = failure.message
    else:
        error = _problems(form)
    with acting_for(request):
        line = counting_lines(session).get(pk=line_id)
        if not request.htmx:
            if error:
                messages.error(request, f"Lot {line.lot.code} at {line.location.code}: {error}")
            return redirect(_sheet_url(session, page_number))
        # The line in place, and the count's progress beside it out of band.
        return render(
            request,
            f"{SHEET_TEMPLATE}#line-saved",
            {
                "session": session,
                "line": line,
                "page_number": page_number,
                "progress": count_progress(session),
                "error": error,
                "typed": request.POST.get("counted", "")[:32] if error else None,
                "just_saved": not error,
            },
            status=422 if error else 200,
        )


def _add_found_lot(request, session, data: dict, operation) -> tuple[int, dict]:
    line = add_found_lot(
        tenant=request.tenant,
        session=session,
        location=data["location_object"],
        lot=data["lot"],
        quantity=data["counted"],
        user=request.user,
    )
    return 201, {"line_id": line.pk}


@write_screen
@require_POST
@role_required(*COUNTERS)
def count_found(request, session_id: int):
    """Add a lot found on the shelf that the count does not list, counted.

    The sheet then shows the page holding the new line; a refusal keeps the
    page the form was sent from.
    """
    page_number = _page_number(request.POST.get("page"))
    with acting_for(request):
        session = _count_or_404(session_id)
        form = FoundLotForm(request.POST, session=session)
        is_valid = form.is_valid()
    if is_valid:
        data = form.cleaned_data
        try:
            outcome = write_idempotent(
                tenant=request.tenant,
                key=data["idempotency_key"],
                kind="count-found",
                payload={
                    "session": session.pk,
                    "location": data["location_object"].pk,
                    "lot": data["lot"].pk,
                    "counted": data["counted"],
                },
                perform=functools.partial(_add_found_lot, request, session, data),
            )
        except DomainError as failure:
            form.add_error(None, failure.message)
        else:
            with acting_for(request):
                page_number = _page_holding(session, line_id=outcome.body["line_id"])
            if not request.htmx:
                messages.success(
                    request,
                    f"Lot {data['lot'].code} at {data['location_object'].code} added to the count.",
                )
                return redirect(_sheet_url(session, page_number))
            form = None
    if not request.htmx and form is not None:
        messages.error(request, f"Nothing added: {_problems(form)}")
        return redirect(_sheet_url(session, page_number))
    with acting_for(request):
        response = render(
            request,
            f"{SHEET_TEMPLATE}#count-sheet",
            _sheet_context(request, session, page_number=page_number, found_form=form),
            status=422 if form is not None else 200,
        )
    if page_number:
        push_url(response, _sheet_url(session, page_number))
    return response


@write_screen
@require_POST
@role_required(*COUNTERS)
def count_submit(request, session_id: int):
    """Counting is done: the count goes to review (every line must have a count).

    Refused for lines without a count, the sheet turns to the page of the
    first of them.
    """
    with acting_for(request):
        session = _count_or_404(session_id)
    try:
        write(submit_count, tenant=request.tenant, session=session, user=request.user)
    except DomainError as failure:
        if not request.htmx:
            messages.error(request, f"Not submitted: {failure.message}")
            return redirect("inventory:count", session.pk)
        with acting_for(request):
            page_number = _page_holding(session) or _page_number(request.POST.get("page"))
            response = render(
                request,
                f"{SHEET_TEMPLATE}#count-sheet",
                _sheet_context(
                    request,
                    session,
                    page_number=page_number,
                    sheet_error=f"Not submitted: {failure.message}",
                ),
                status=422,
            )
        if page_number:
            push_url(response, _sheet_url(session, page_number))
        return response
    messages.success(request, f"Count {session.pk} submitted for review.")
    url = reverse("inventory:count-review", args=[session.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# -- review, posting, cancelling -----------------------------------------------------------


def _review_context(request, session, *, error=None) -> dict:
    """The totals over the whole count, and one sorted page of its lines."""
    review = count_review(session, threshold=request.tenant.count_approval_value)
    return {
        "session": session,
        "review": review,
        "table": configure_table(request, ReviewTable(review_lines(session))),
        "bins": count_bins(session) if session.product_id is None else [],
        "progress": count_progress(session),
        "is_manager": _is_manager(request),
        "error": error,
    }


@role_required(*COUNTERS)
def count_review_page(request, session_id: int):
    """Differences with their value; Post, Approve and post, Cancel by role."""
    session = _count_or_404(session_id)
    if session.status == CountStatus.OPEN:
        # Still being counted: showing the books now would unblind the count.
        return redirect("inventory:count", session.pk)
    return render_region(
        request, REVIEW_TEMPLATE, "review-table", _review_context(request, session)
    )


def _after_review_action(request, session_id: int, *, notice: str | None, error: str | None):
    if not request.htmx or request.htmx.target != "count-review":
        # A plain post, or a button of the counting sheet: the review page says it.
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        url = reverse("inventory:count-review", args=[session_id])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    with acting_for(request):
        session = _count_or_404(session_id)
        context = _review_context(request, session, error=error)
        context["notice"] = notice
        return render(
            request,
            f"{REVIEW_TEMPLATE}#count-review",
            context,
            status=422 if error else 200,
        )


@write_screen
@require_POST
@role_required(*COUNTERS)
def count_post(request, session_id: int):
    """Post the differences; "approve" (managers) also approves differences above the limit."""
    approve = request.POST.get("approve") == "1"
    with acting_for(request):
        session = _count_or_404(session_id)
    if approve and not _is_manager(request):
        raise PermissionDenied("Only a manager can approve a count.")
    try:
        posted = write(
            post_count_session,
            tenant=request.tenant,
            session=session,
            user=request.user,
            approve=approve,
        )
    except DomainError as failure:
        return _after_review_action(
            request, session.pk, notice=None, error=f"Not posted: {failure.message}"
        )
    entries = posted.entries
    notice = (
        f"Count {session.pk} {'approved and ' if approve else ''}posted: "
        f"{entries} difference{'s' if entries != 1 else ''} written to stock"
        f" (worth {money(posted.total_value)} in total)."
        if entries
        else f"Count {session.pk} posted: every line matched the books; no stock changed."
    )
    return _after_review_action(request, session.pk, notice=notice, error=None)


@write_screen
@require_POST
@role_required(Role.MANAGER)
def count_cancel(request, session_id: int):
    """A manager abandons a count that is not posted; no stock changes."""
    with acting_for(request):
        session = _count_or_404(session_id)
    try:
        write(cancel_count, tenant=request.tenant, session=session, user=request.user)
    except DomainError as failure:
        return _after_review_action(
            request, session.pk, notice=None, error=f"Not cancelled: {failure.message}"
        )
    return _after_review_action(
        request, session.pk, notice=f"Count {session.pk} cancelled; no stock changed.", error=None
    )

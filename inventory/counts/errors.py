"""What the count services refuse: domain errors with stable codes (``inventory.core.errors``)."""

from __future__ import annotations

from inventory.core.errors import Conflict, NotFound, Unprocessable


class CountNotFound(NotFound):
    code = "COUNT_NOT_FOUND"
    default_message = "No such count."


class CountLineNotFound(NotFound):
    code = "COUNT_LINE_NOT_FOUND"
    default_message = "This line is not part of the count."


class CountNotOpen(Conflict):
    """The count is no longer being counted (submitted, posted or cancelled)."""

    code = "COUNT_NOT_OPEN"
    default_message = "This count is no longer open for counting."


class CountNotInReview(Conflict):
    """Only a submitted count can be posted (a second post finds it posted)."""

    code = "COUNT_NOT_IN_REVIEW"
    default_message = "This count is not waiting for review."


class CountIncomplete(Unprocessable):
    code = "COUNT_INCOMPLETE"
    default_message = "Count every line before submitting."


class LotAlreadyOnCount(Conflict):
    code = "LOT_ALREADY_ON_COUNT"
    default_message = "This lot is already on the count at this bin."


class CountNeedsApproval(Conflict):
    """The differences are worth more than the tenant lets a count post unapproved."""

    code = "COUNT_NEEDS_APPROVAL"
    default_message = "The differences of this count need a manager's approval."


class CountOverlaps(Conflict):
    """A bin (or the product) is already in a count that is open or in review."""

    code = "COUNT_OVERLAPS"
    default_message = "This is already being counted: finish or cancel that count first."

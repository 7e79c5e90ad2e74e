"""The shared list kit: remembered cell signatures give django-tables2 the same answers."""

from __future__ import annotations

import functools
from decimal import Decimal

import django_tables2 as tables
import django_tables2.utils
import pytest

from inventory.templatetags.stock import money
from inventory.web import tables as kit

inspect_signature = kit._remembered_signature.__kwdefaults__["inspect_signature"]


class Column:
    def render(self, value, record):
        return value

    def value(self, **kwargs):
        return kwargs

    @classmethod
    def build(cls, table):
        return table


def plain(value, record, table):
    return value


@pytest.fixture(autouse=True)
def empty_memory():
    kit._SIGNATURES.clear()
    yield
    kit._SIGNATURES.clear()


def test_the_app_installs_the_remembered_signature():
    assert django_tables2.utils.signature is kit._remembered_signature


@pytest.mark.parametrize(
    "fn",
    [
        Column().render,
        Column().value,
        Column.build,
        plain,
        functools.partial(plain, 1),
        lambda record: record,
    ],
)
def test_remembered_signature_matches_inspection(fn):
    first = kit._remembered_signature(fn)
    again = kit._remembered_signature(fn)
    assert first == again == inspect_signature(fn)


def test_bound_and_unbound_functions_are_remembered_apart():
    # The same function seen bound (self dropped) and plain (self kept).
    assert kit._remembered_signature(Column().render) == (("value", "record"), None)
    assert kit._remembered_signature(Column.render) == (("self", "value", "record"), None)
    # Another object's method answers from memory, with the same arguments.
    assert kit._remembered_signature(Column().render) == (("value", "record"), None)


def test_partials_are_not_kept():
    kit._remembered_signature(functools.partial(plain, 1))
    assert kit._SIGNATURES == {}


def test_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(kit, "_SIGNATURES_KEPT", 3)
    for _ in range(10):
        kit._remembered_signature(lambda record: record)  # a new closure each time
    assert len(kit._SIGNATURES) <= 3


def test_a_table_draws_each_cell_with_the_arguments_its_render_asks_for():
    class Rows(tables.Table):
        name = tables.Column()
        size = tables.Column()

        def render_name(self, value, record):
            return f"{value}:{record['size']}"

        def render_size(self, value, bound_column, **rest):
            return f"{bound_column.name}={value}"

    data = [{"name": "A-01", "size": 3}, {"name": "A-02", "size": 5}]
    first = [[row.get_cell(name) for name in ("name", "size")] for row in Rows(data).rows]
    second = [[row.get_cell(name) for name in ("name", "size")] for row in Rows(data).rows]
    assert first == second == [["A-01:3", "size=3"], ["A-02:5", "size=5"]]


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("1234567.891"), "1,234,567.89"),
        (Decimal("-12.5"), "-12.50"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("-0.004"), "0.00"),
        (Decimal("0"), "0.00"),
        (None, ""),
    ],
)
def test_money_has_two_decimals_separators_and_no_negative_zero(amount, shown):
    assert money(amount) == shown

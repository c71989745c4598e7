"""``manage.py demo_data``: the menu, and the seed's table as a demo order."""

from io import StringIO

import pytest
from django.core.management import call_command

from services.billing.models import MenuItem, Order

pytestmark = pytest.mark.django_db


def run() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def test_the_migration_already_seeded_the_menu():
    assert list(MenuItem.objects.values_list("code", "price")) == [
        ("salad", 850),
        ("juice", 400),
        ("omelet", 950),
        ("coffee", 300),
        ("pancakes", 780),
        ("tea", 250),
        ("toast", 350),
    ]


def test_demo_data_restores_the_menu_and_opens_one_order():
    MenuItem.objects.filter(code="toast").delete()

    out = run()

    assert "menu has 7 items (1 added)" in out
    order = Order.objects.get()
    assert (order.table, order.status) == ("12", "open")
    assert sorted(order.items.values_list("diner", "menu_item__code")) == [
        ("Derek", "coffee"),
        ("Jane", "omelet"),
        ("John", "juice"),
        ("John", "salad"),
    ]
    assert set(order.items.values_list("submission__number", flat=True)) == {1}


def test_demo_data_twice_changes_nothing():
    run()

    out = run()

    assert "orders exist already" in out
    assert Order.objects.count() == 1
    assert MenuItem.objects.count() == 7

from django.core.management.base import BaseCommand
from django.db import transaction

from services.billing import services
from services.billing.models import MenuItem, Order

# The menu the data migration opens with; restored here if someone emptied it.
MENU = [
    ("salad", "Garden salad", 850),
    ("juice", "Orange juice", 400),
    ("omelet", "Omelet", 950),
    ("coffee", "Coffee", 300),
    ("pancakes", "Pancakes", 780),
    ("tea", "Tea", 250),
    ("toast", "Toast and jam", 350),
]
# The seed's table: John's salad and juice, Jane's omelet, Derek's coffee (free with the omelet).
TABLE = [("salad", "John"), ("juice", "John"), ("omelet", "Jane"), ("coffee", "Derek")]


class Command(BaseCommand):
    help = "Make sure the menu exists, and open one demo order (only when there are no orders)."

    @transaction.atomic
    def handle(self, *args, **options):
        added = 0
        for position, (code, name, price) in enumerate(MENU, start=1):
            _, created = MenuItem.objects.get_or_create(
                code=code, defaults={"name": name, "price": price, "position": position}
            )
            added += created
        self.stdout.write(f"billing: menu has {MenuItem.objects.count()} items ({added} added)")
        if Order.objects.exists():
            self.stdout.write("billing: orders exist already; no demo order")
            return
        order = services.order_create(table="12")
        services.order_items_add(
            order_id=order.pk,
            items=[services.NewItem(item=item, diner=diner) for item, diner in TABLE],
        )
        services.order_submit(order_id=order.pk)
        self.stdout.write(f"billing: opened demo order {order.pk} at table 12 (submitted)")

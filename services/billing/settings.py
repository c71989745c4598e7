import os

from services.kit.settings import *  # noqa: F403
from services.kit.settings import KIT_APPS, SPECTACULAR_SETTINGS, database_for, env_bool

SERVICE_NAME = "billing"
API_VERSIONS = ["v1", "v2"]

INSTALLED_APPS = [*KIT_APPS, "services.billing"]
ROOT_URLCONF = "services.kit.service_urls"
WSGI_APPLICATION = "services.billing.wsgi.application"
DATABASES = {"default": database_for(SERVICE_NAME)}
OUTBOX_SENDER = "services.billing.worker.ticket_requests"

# Who charges cards: a dotted path to a ``services.billing.processors.CardProcessor``. The sandbox
# knows the usual test cards and charges nobody.
BILLING_CARD_PROCESSOR = os.environ.get(
    "BILLING_CARD_PROCESSOR", "services.billing.processors.SandboxCardProcessor"
)
# A declined card opens a support ticket: sent right after the payment commits, from a background
# thread with short timeouts (the payment never waits for it); `send_ticket_requests` retries.
BILLING_SEND_TICKETS_AFTER_COMMIT = env_bool("BILLING_SEND_TICKETS_AFTER_COMMIT", True)
BILLING_TICKETS_CONNECT_TIMEOUT = float(os.environ.get("BILLING_TICKETS_CONNECT_TIMEOUT", "1"))
BILLING_TICKETS_READ_TIMEOUT = float(os.environ.get("BILLING_TICKETS_READ_TIMEOUT", "3"))

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Billing service",
    "DESCRIPTION": (
        "Restaurant orders from menu to payment: diners add items concurrently, submissions go "
        "to the kitchen, the bill applies bundles and discounts, and one call pays it with several "
        "methods. Amounts are integer cents. Owned by the Payments team."
    ),
    "TAGS": [{"name": "billing", "description": "The menu, orders, bills and payments."}],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "services.billing.models.Order.Status",
        "ItemStatusEnum": "services.billing.models.OrderItem.Status",
        "PaymentStatusEnum": "services.billing.models.PAYMENT_OUTCOMES",
    },
}

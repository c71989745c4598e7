from services.kit.settings import *  # noqa: F403
from services.kit.settings import KIT_APPS, SPECTACULAR_SETTINGS, database_for

SERVICE_NAME = "tickets"
API_VERSIONS = ["v1", "v2"]

INSTALLED_APPS = [*KIT_APPS, "services.tickets"]
ROOT_URLCONF = "services.kit.service_urls"
WSGI_APPLICATION = "services.tickets.wsgi.application"
DATABASES = {"default": database_for(SERVICE_NAME)}
OUTBOX_SENDER = "services.tickets.worker.promotions"

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Tickets service",
    "DESCRIPTION": (
        "Support tickets from customers and from other services (billing opens one per declined "
        "payment): comments, an open → pending → resolved / closed workflow, and answers "
        "promoted to the FAQ. Owned by the Support team."
    ),
    "TAGS": [{"name": "tickets", "description": "Support tickets, their comments and answers."}],
    # Two `status` fields with different choices: name their enums instead of hashing them.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "services.tickets.models.Ticket.Status",
        "PromotionStatusEnum": "services.tickets.models.PromotionStatus",
    },
}

import os

os.environ["SERVICE"] = "tickets"
os.environ["DJANGO_SETTINGS_MODULE"] = "services.tickets.settings"

from services.kit.wsgi import get_application

application = get_application()

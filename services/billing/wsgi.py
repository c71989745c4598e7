import os

os.environ["SERVICE"] = "billing"
os.environ["DJANGO_SETTINGS_MODULE"] = "services.billing.settings"

from services.kit.wsgi import get_application

application = get_application()

import os

os.environ["SERVICE"] = "faq"
os.environ["DJANGO_SETTINGS_MODULE"] = "services.faq.settings"

from services.kit.wsgi import get_application

application = get_application()

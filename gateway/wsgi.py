import os

os.environ["SERVICE"] = "gateway"
os.environ["DJANGO_SETTINGS_MODULE"] = "gateway.settings"

from services.kit.wsgi import get_application

application = get_application()

"""WSGI entry for whichever app ``SERVICE`` names (the Procfile's ``web`` process)."""

from services.kit.entry import configure

configure()

from services.kit.wsgi import get_application  # noqa: E402

application = get_application()

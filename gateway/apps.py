from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = "Switchyard gateway"

    def ready(self):
        # WhiteNoise serves STATIC_ROOT and warns when it does not exist (before collectstatic).
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Published API contracts"

    def ready(self):
        from contracts import checks  # noqa: F401  (registers the check)

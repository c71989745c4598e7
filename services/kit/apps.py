from django.apps import AppConfig


class KitConfig(AppConfig):
    name = "services.kit"
    label = "kit"
    verbose_name = "Switchyard service kit"

    def ready(self):
        from services.kit import converters, schema  # noqa: F401 - registers <id:> and OpenAPI parts

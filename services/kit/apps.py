from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class KitConfig(AppConfig):
    name = "services.kit"
    label = "kit"
    verbose_name = "Switchyard service kit"

    def ready(self):
        from services.kit import converters, schema  # noqa: F401 - registers <id:> and OpenAPI parts

        # SQLite makes its file but not the folder it goes in (var/ on a fresh checkout).
        for database in settings.DATABASES.values():
            name = str(database.get("NAME") or "")
            if (
                database["ENGINE"].endswith("sqlite3")
                and name
                and not name.startswith((":", "file:"))
            ):
                Path(name).parent.mkdir(parents=True, exist_ok=True)

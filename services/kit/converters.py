from django.urls import register_converter


class IdConverter:
    """A database id in a path: 1 to 18 digits, so it always fits a 64-bit column.

    Django's ``int`` converter accepts any length, and a 30-digit id overflows the database
    driver (a 500) instead of being a plain 404.
    """

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

#!/usr/bin/env python
"""Django's command-line utility for every Switchyard app: ``SERVICE=faq python manage.py …``."""

import sys

from services.kit.entry import configure


def main() -> None:
    configure()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

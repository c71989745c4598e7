"""gunicorn's own log lines as JSON on stderr, and no access log.

The apps write one JSON line per request themselves. Any ``logconfig_dict`` makes gunicorn count
its access log as on, so it would build every request's log fields only to drop them: this logger
class formats gunicorn's lines instead, and leaves the access log off.
"""

import logging
import sys

from gunicorn.glogging import Logger
from pythonjsonlogger.json import JsonFormatter


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


class JsonLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(json_formatter())
        root = logging.getLogger()
        if not root.handlers:  # the master's own warnings; workers get Django's LOGGING
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(json_formatter())
            root.addHandler(handler)

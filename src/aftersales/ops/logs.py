"""Log lines that name their request: a filter that stamps the request id on every record, and the
JSON formatter (python-json-logger) settings.LOGGING uses when AFTERSALES_LOG_FORMAT=json."""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

from aftersales.ops.context import current_request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id() or "-"
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, request_id (+ any `extra=`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", False)
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)

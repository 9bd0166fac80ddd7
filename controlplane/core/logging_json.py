"""One JSON object per log line, for log shippers (TETHER_LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from controlplane.core.request_id import current_request_id


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, and exc_info/stack_info as text when present."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current_request_id(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines, so a traceback stays on its one line.
        return json.dumps(entry, default=str)

"""How long-running commands talk: structured JSON lines in a container, readable lines and a status line in a terminal.

UNIONFEED_LOG_FORMAT picks `json` or `text`; by default it is `json` when stderr is not a terminal (a container's
log collector reads one JSON object a line) and `text` when it is.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

LOG_FORMAT_ENV = "UNIONFEED_LOG_FORMAT"
# Attributes every LogRecord has; anything else was passed with extra= and belongs in the JSON line.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


def log_format() -> str:
    """json or text, from the environment or from whether stderr is a terminal."""
    chosen = os.environ.get(LOG_FORMAT_ENV, "").strip().lower()
    if chosen in ("json", "text"):
        return chosen
    return "text" if sys.stderr.isatty() else "json"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the fields passed with extra=."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class FieldsFormatter(logging.Formatter):
    """Readable lines with the extra= fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_"))
        return f"{text} {extra}" if extra else text


def configure_logging(level: int = logging.INFO, fmt: str | None = None, console: Any = None) -> str:
    """Route the root logger to stderr as JSON lines or readable text (rich when a console is given)."""
    fmt = fmt or log_format()
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler: logging.Handler
    if fmt == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    elif console is not None:
        from rich.logging import RichHandler

        handler = RichHandler(console=console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(FieldsFormatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(FieldsFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)  # on the handler too: Scrapy resets the root logger's level when a crawl starts
    root.addHandler(handler)
    root.setLevel(level)
    # Scrapy's own INFO chatter (stats dumps, middleware lists) would drown the scheduler's lines.
    for noisy in ("scrapy", "apscheduler.executors", "py.warnings"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return fmt

"""Secrets never reach the logs: uvicorn writes every request line with its query string, and
browsers must put websocket credentials there (`?token=…`, `?key=…`)."""

import logging
import re

SECRET_PARAM = re.compile(r"([?&](?:token|key)=)[^&\s\"']+")
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return SECRET_PARAM.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        return True


def redact_server_logs() -> None:
    """Attach the filter to uvicorn's loggers once per process."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(item, RedactSecrets) for item in logger.filters):
            logger.addFilter(RedactSecrets())

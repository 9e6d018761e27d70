"""Webhook URL tokens kept out of the access log, with no ORM.

A webhook URL's token is what lets a sender in (with its signature): werkzeug's
request log line (``"POST /integration/webhook/<token> HTTP/1.1" 202 …``) would write
it into every log file and log shipper. A filter on the ``werkzeug`` logger masks the
token segment of the hub's routes before any handler sees the line.
"""

import logging
import re

# /integration/<route>/<token>[/…]: the segment after the route name is the token.
_TOKEN_SEGMENT = re.compile(r"(/integration/(?:webhook|hl7|fhir)/)[^/\s?#\"]+")
MASK = "***"


def mask_tokens(text):
    """``text`` with the URL token of every hub route replaced by ``***``."""
    return _TOKEN_SEGMENT.sub(rf"\g<1>{MASK}", text)


class TokenMaskingFilter(logging.Filter):
    """Masks hub URL tokens in a log record's message and string arguments."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_tokens(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def install(logger_name="werkzeug"):
    """Add the filter to ``logger_name`` once (idempotent)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, TokenMaskingFilter) for f in logger.filters):
        logger.addFilter(TokenMaskingFilter())

"""The access log without the secrets of capability links.

A venue's link (``/venue/<token>``) checks in and uploads photos, a rating
link (``/rate/<token>?code=…``) carries the code of the moment: written whole
into uvicorn's access log, they are handed to whoever reads the log (the
join cards moved to the URL fragment for this reason).  This filter, on the
``uvicorn.access`` logger, replaces the token and the query of such a path
with ``…`` in every argument of the record, whatever its position, before
any handler formats it: the log still says which kind of link was opened,
when and with what status.
"""

from __future__ import annotations

import logging
import re

CAPABILITY = re.compile(r"/(venue|rate)/[^/?\s\"]+((?:/[^?\s\"]*)?)(\?[^\s\"]*)?")


def hidden(text: str) -> str:
    """``text`` with every capability link's token and query replaced by ``…``."""
    return CAPABILITY.sub(lambda found: f"/{found.group(1)}/…{found.group(2)}{'?…' if found.group(3) else ''}", text)


class HideCapabilities(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(hidden(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = hidden(record.msg)
        return True


def hide_capabilities(logger: logging.Logger | None = None) -> None:
    """Put the filter on uvicorn's access log (once, however many apps this process makes)."""
    logger = logger or logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideCapabilities) for f in logger.filters):
        logger.addFilter(HideCapabilities())

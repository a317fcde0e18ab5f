"""Progress lines for people watching a refresh (the CLI shows them; the UI has the logs)."""

from __future__ import annotations

import logging

logger = logging.getLogger("civic.progress")


def progress(message: str) -> None:
    logger.info(message)

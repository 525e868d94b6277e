"""The package logger: everything the toolkit says goes to ``toolkit`` (never printed into a cell)."""

import logging

logger = logging.getLogger("toolkit")
logger.addHandler(logging.NullHandler())

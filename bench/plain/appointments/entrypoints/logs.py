"""One plain log line per event, in the layout the Lambda Python runtime gives the root logger
(which stays at WARNING, as there, so the libraries' INFO lines stay out)."""

from __future__ import annotations

import logging

logging.basicConfig(format="[%(levelname)s]\t%(asctime)s\t%(message)s", force=True)
logger = logging.getLogger("appointments")
logger.setLevel(logging.INFO)

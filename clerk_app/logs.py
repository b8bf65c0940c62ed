"""Log files for IT: English, rotating, and free of personal data by construction.

Modules log only technical facts (paths, counts, versions, error classes) and the English
`message_en` of errors, which by rule carries no personal data; personal data stays in the
encrypted register's audit table.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_dir: Path, level: str = "INFO") -> Path | None:
    """Log to a rotating file in `log_dir`; returns its path, or None if it can't be written.

    Calling it again (tests, a changed configuration) replaces the handler it added before.
    """
    root = logging.getLogger()
    root.setLevel(level)
    path: Path | None = log_dir / "clerk-app.log"
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_dir / "clerk-app.log", maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    except OSError:
        handler, path = logging.StreamHandler(), None
    handler.setFormatter(logging.Formatter(FORMAT))
    for old in [h for h in root.handlers if getattr(h, "clerk_app", False)]:
        root.removeHandler(old)
        old.close()
    handler.clerk_app = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    return path

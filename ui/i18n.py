"""One translation function for every visible string of the UI.

Source strings are German (the clerks' language); `ui/translations/en.json` maps them to
English and is loaded when `cfg.language == "en"`. Every call is `tr("literal German text")`
with a literal, so a test can collect all of them and check that the catalog covers each.
Placeholders use `str.format` *after* translation: `tr("{n} Treffer").format(n=3)`.

Words that come from the core as German labels (e.g. `SEX_LABELS`) go through `tr_label`;
their English is in the same catalog (a test checks the core's label dictionaries too).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from clerk_app.errors import ClerkError

log = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("de", "en")

_catalog: dict[str, str] = {}
_language = "de"


def load_catalog(language: str) -> dict[str, str]:
    """The catalog of `language` as a dict (German is the source: an empty catalog)."""
    if language == "de":
        return {}
    path = TRANSLATIONS_DIR / f"{language}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("cannot read translation catalog %s: %s", path, exc)
        return {}
    return {str(k): str(v) for k, v in data.items()}


def set_language(language: str) -> None:
    """Switch the UI language for every `tr` call from now on ('de' or 'en')."""
    global _catalog, _language
    _language = language if language in LANGUAGES else "de"
    _catalog = load_catalog(_language)


def language() -> str:
    return _language


def tr(text: str) -> str:
    """The visible form of the German source string `text` in the current language."""
    return _catalog.get(text, text)


def tr_label(text: str) -> str:
    """A German label that comes from the core (not a literal here), translated if known."""
    return _catalog.get(text, text)


def error_text(exc: ClerkError) -> str:
    """The message of a core error for the screen: German, or the English one in 'en'."""
    return message_text(exc.message_de, exc.message_en)


def message_text(message_de: str, message_en: str) -> str:
    """A failure's message pair (as `DbWorker` reports it) for the screen: German, or the
    English one in 'en'."""
    if _language != "en":
        return message_de
    return message_en[:1].upper() + message_en[1:]

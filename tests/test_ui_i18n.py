"""Every visible string of the UI goes through `tr()` with a German literal, and the English
catalog covers each of them (and the core's German labels the UI shows), with the same
placeholders."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from clerk_app.cashbook import METHODS
from clerk_app.models import (
    MARITAL_LABELS,
    RELATION_LABELS,
    RELIGION_LABELS,
    RESIDENCE_LABELS,
    SEX_LABELS,
)
from clerk_app.persons import ID_DOCUMENT_TYPES
from clerk_app.queue.states import STATE_LABELS
from clerk_app.services.certificates import (
    CERTIFICATE_KINDS,
    DELIVERIES,
    ENTITLEMENTS,
    EVENT_LABELS,
    EXTENDED_SECTIONS,
)
from ui import i18n
from ui.person_view import (
    BLOCK_KINDS,
    DOC_TYPE_LABELS,
    FORMER_NAME_KINDS,
    NATIONALITY_LABELS,
)

UI_DIR = Path(i18n.__file__).resolve().parent
CATALOG = UI_DIR / "translations" / "en.json"
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def tr_calls() -> dict[str, list[str]]:
    """Each tr() source string -> where it is used; a non-literal argument fails right away."""
    found: dict[str, list[str]] = {}
    for path in sorted(UI_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            if name != "tr":
                continue
            where = f"{path.relative_to(UI_DIR.parent)}:{node.lineno}"
            assert len(node.args) == 1 and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str), f"tr() needs one literal: {where}"
            found.setdefault(node.args[0].value, []).append(where)
    return found


def core_labels() -> set[str]:
    labels: set[str] = set()
    for table in (SEX_LABELS, RESIDENCE_LABELS, MARITAL_LABELS, RELIGION_LABELS,
                  DOC_TYPE_LABELS, NATIONALITY_LABELS, CERTIFICATE_KINDS, ENTITLEMENTS,
                  DELIVERIES, EXTENDED_SECTIONS, METHODS, ID_DOCUMENT_TYPES,
                  RELATION_LABELS, STATE_LABELS):
        labels.update(table.values())
    for event_labels in EVENT_LABELS.values():
        labels.update(event_labels)
    labels.update(FORMER_NAME_KINDS)
    labels.update(BLOCK_KINDS)
    return labels


@pytest.fixture(scope="module")
def catalog() -> dict[str, str]:
    data = json.loads(CATALOG.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_ui_uses_many_tr_strings() -> None:
    assert len(tr_calls()) > 80


def test_english_catalog_covers_every_string(catalog: dict[str, str]) -> None:
    used = tr_calls()
    missing = {text: where for text, where in used.items() if text not in catalog}
    assert missing == {}


def test_english_catalog_covers_the_core_labels_shown(catalog: dict[str, str]) -> None:
    assert sorted(core_labels() - catalog.keys()) == []


def test_catalog_has_no_stale_entries(catalog: dict[str, str]) -> None:
    assert sorted(catalog.keys() - tr_calls().keys() - core_labels()) == []


def test_translations_are_english_and_keep_placeholders(catalog: dict[str, str]) -> None:
    for german, english in catalog.items():
        assert english.strip(), german
        assert sorted(PLACEHOLDER.findall(german)) == sorted(PLACEHOLDER.findall(english)), \
            german
        assert not re.search(r"[äöüß]", english), f"German left in: {english}"
    # Shortcut hints keep their key names readable in English.
    assert "Ctrl+F" in catalog["Name, Geburtsdatum (TT.MM.JJJJ) oder Straße Hausnummer – Strg+F"]


def test_tr_switches_language() -> None:
    try:
        i18n.set_language("en")
        assert i18n.tr("Keine Treffer") == "No matches"
        assert i18n.tr_label("verheiratet") == "married"
        assert i18n.tr("ein Text, den es nicht gibt") == "ein Text, den es nicht gibt"
        i18n.set_language("de")
        assert i18n.tr("Keine Treffer") == "Keine Treffer"
    finally:
        i18n.set_language("de")

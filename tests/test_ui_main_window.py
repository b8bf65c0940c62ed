"""The main window, driven like a clerk drives it: real register, real window, real keys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from clerk_app import audit
from clerk_app.clerks import DEMO_CLERK, Actor, demo_actor
from clerk_app.config import Config
from clerk_app.names import search_form
from clerk_app.store import opening
from tests.factories import add_person, make_cfg
from tests.ui_support import (
    Register,
    module_register,
    settle,
    start_window,
    type_search,
    unnamed_controls,
)
from ui.db_worker import COUNTER_PURPOSE, DbWorker
from ui.i18n import set_language
from ui.main_window import MainWindow
from ui.person_view import BlockBanner
from ui.results_model import COL_BLOCK, COL_NAME
from ui.search_panel import effective_query

pytestmark = pytest.mark.usefixtures("german")

RESIDENTS = 1500


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Register:
    """A demo register of 1500 residents plus a few exact, hand-made persons."""
    people: dict[str, str] = {}
    with module_register(tmp_path_factory, RESIDENTS) as (data_dir, store):
        people["anna"] = add_person(store, "Müller", "Anna Maria", "1964-08-12")
        people["hans"] = add_person(store, "Müller-Lüdenscheidt", "Hans", "1971-01-30",
                                    street="Basler Straße", number="3a")
        people["bernd"] = add_person(store, "Mueller", "Bernd", "1950-02-02")
        people["berta"] = add_person(store, "Sperrlich", "Berta", "1988-04-01", block=True)
        with store.transaction() as db:
            db.execute("UPDATE persons SET everyday_name = 'Maria', birth_place = 'Lörrach', "
                       "sex = 'w', marital_status = 'VH' WHERE id = ?", (people["anna"],))
    return data_dir, people


def test_search_field_has_focus_at_start(window: MainWindow) -> None:
    assert window.search.hasFocus()
    assert "TT.MM.JJJJ" in window.search.placeholderText()
    assert "Strg+F" in window.search.placeholderText()


def test_typing_mueller_lists_muellers_exact_family_name_first(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    type_search(qtbot, window, "mueller")
    hits = window.model.hits
    assert hits, window.message.text()
    exact = [search_form(h.family_name) == "MUELLER" for h in hits]
    assert exact[0], "an exact family-name match comes first"
    assert exact == sorted(exact, reverse=True), "exact family-name matches before the rest"
    ids = [h.id for h in hits]
    assert people["anna"] in ids and people["bernd"] in ids
    if "Mehr als" not in window.count.text():
        assert people["hans"] in ids
        assert ids.index(people["hans"]) > ids.index(people["anna"])
        assert window.count.text() == f"{len(hits)} Treffer"
    assert window.model.data(window.model.index(0, COL_NAME)).startswith(hits[0].family_name)
    assert window.search.hasFocus(), "typing stays in the search field"


def test_umlauts_typed_find_the_same_persons(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    type_search(qtbot, window, "Müller Anna")
    assert people["anna"] in [h.id for h in window.model.hits]
    assert window.search.text() == "Müller Anna"


def test_arrow_down_and_enter_open_the_person_with_an_audit_entry(
        qtbot: QtBot, window: MainWindow, cfg: Config, people: dict[str, str]) -> None:
    type_search(qtbot, window, "mueller anna")
    assert window.model.hits
    qtbot.keyClick(window.search, Qt.Key.Key_Down)
    chosen = window.selected_hit()
    assert chosen is not None and chosen.id == window.model.hits[0].id
    assert window.search.hasFocus(), "the cursor stays in the search field"
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
    record = window.person_view.record
    assert record is not None and record.id == chosen.id
    page_text = window.person_view.record_text()
    assert record.display_name in page_text
    assert f"{record.birth_date:%d.%m.%Y}" in page_text
    current = record.current_residences[0].address
    assert f"{current.street} {current.house_number}" in page_text
    assert window.search.hasFocus()
    with opening.open_register(cfg) as store:
        entries = audit.entries_for(store, chosen.id)
    reads = [e for e in entries if e["action"] == audit.READ]
    assert reads, "opening a person is audited"
    assert reads[0]["purpose"] == COUNTER_PURPOSE
    assert reads[0]["clerk"] == DEMO_CLERK and reads[0]["workstation"] == "Schalter 3"


def test_person_view_marks_the_everyday_name(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    type_search(qtbot, window, "mueller anna maria 12.08.1964")
    assert [h.id for h in window.model.hits] == [people["anna"]]
    assert window.count.text() == "1 Treffer"
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)   # the only hit, no selection needed
    text = window.person_view.record_text()
    assert "Anna Maria (Rufname: Maria)" in text, "the everyday name is named in words"
    assert re.search(r"underline[^>]*>Maria<", window.person_view.record_html()), \
        "and underlined"
    assert "weiblich" in text and "verheiratet" in text and "Lörrach" in text


def test_escape_clears_search_and_person(qtbot: QtBot, window: MainWindow) -> None:
    type_search(qtbot, window, "mueller")
    qtbot.keyClick(window.search, Qt.Key.Key_Down)
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert window.person_view.record is not None
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Escape)
    assert window.search.text() == ""
    assert window.model.rowCount() == 0
    assert window.person_view.record is None
    assert window.count.text() == ""
    assert window.search.hasFocus()
    type_search(qtbot, window, "mueller")
    assert window.model.rowCount() > 0
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    assert window.search.text() == "" and window.model.rowCount() == 0


def test_ctrl_f_returns_to_the_search_with_text_selected(
        qtbot: QtBot, window: MainWindow) -> None:
    type_search(qtbot, window, "mueller")
    window.table.setFocus()
    assert not window.search.hasFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search.hasFocus()
    assert window.search.selectedText() == "mueller"
    qtbot.keyClicks(window.search, "sperrlich")   # typing replaces the selected text
    settle(qtbot, window)
    assert window.search.text() == "sperrlich"


def test_up_down_move_through_the_hits(qtbot: QtBot, window: MainWindow) -> None:
    type_search(qtbot, window, "mueller")
    count = window.model.rowCount()
    assert count >= 3
    for _ in range(3):
        qtbot.keyClick(window.search, Qt.Key.Key_Down)
    assert window.table.selectionModel().selectedRows()[0].row() == 2
    qtbot.keyClick(window.search, Qt.Key.Key_Up)
    assert window.table.selectionModel().selectedRows()[0].row() == 1
    for _ in range(count + 5):
        qtbot.keyClick(window.search, Qt.Key.Key_Down)
    assert window.table.selectionModel().selectedRows()[0].row() == count - 1


def test_enter_in_the_table_opens_the_person(qtbot: QtBot, window: MainWindow) -> None:
    type_search(qtbot, window, "mueller")
    window.table.setFocus()
    window.table.selectRow(1)
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.table, Qt.Key.Key_Return)
    record = window.person_view.record
    assert record is not None and record.id == window.model.hits[1].id
    assert window.search.hasFocus(), "focus goes back to the search field"


def test_fast_typist_enter_before_the_answer_opens_the_first_hit(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClicks(window.search, "sperrlich berta")
        qtbot.keyClick(window.search, Qt.Key.Key_Return)   # within the debounce time
    record = window.person_view.record
    assert record is not None and record.id == people["berta"]


def test_blocked_person_is_marked_in_the_list_and_shows_the_banner(
        qtbot: QtBot, window: MainWindow, people: dict[str, str]) -> None:
    type_search(qtbot, window, "sperrlich")
    assert [h.id for h in window.model.hits] == [people["berta"]]
    marker = window.model.data(window.model.index(0, COL_BLOCK))
    assert "Sperre" in marker and "⚠" in marker, "a worded marker, not colour alone"
    spoken = window.model.data(window.model.index(0, COL_BLOCK),
                               Qt.ItemDataRole.AccessibleTextRole)
    assert "Auskunftssperre" in spoken
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
    banners = window.person_view.findChildren(BlockBanner)
    assert len(banners) == 1 and banners[0].isVisible()
    assert banners[0].title_text == "AUSKUNFTSSPERRE – keine Auskunft an Dritte"
    assert "§ 51 BMG" in banners[0].detail_text
    assert banners[0].accessibleName() == banners[0].title_text
    # The banner sits above the record, outside its scroll area: always in sight.
    assert banners[0].mapTo(window, banners[0].rect().topLeft()).y() < \
        window.person_view.focus_target.mapTo(window, window.person_view.rect().topLeft()).y()


def test_unblocked_person_has_no_banner(qtbot: QtBot, window: MainWindow) -> None:
    type_search(qtbot, window, "mueller bernd")
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert window.person_view.findChildren(BlockBanner) == []


def test_invalid_date_shows_the_german_message_inline(qtbot: QtBot, window: MainWindow) -> None:
    type_search(qtbot, window, "31.02.1990")
    assert "„31.02.1990“ ist kein gültiges Datum (TT.MM.JJJJ)." in window.message.text()
    assert window.message.isVisible()
    assert window.model.rowCount() == 0
    assert QApplication.activeModalWidget() is None, "no dialog"
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    assert window.message.text() == ""


def test_a_megabyte_paste_is_refused_in_words(qtbot: QtBot, window: MainWindow) -> None:
    QApplication.clipboard().setText("Müller " * 150_000)
    qtbot.keyClick(window.search, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, window)
    assert len(window.search.text()) > 200
    assert "zu lang" in window.message.text()
    assert window.model.rowCount() == 0
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    type_search(qtbot, window, "mueller")
    assert window.model.rowCount() > 0, "still working after the paste"


@pytest.mark.parametrize("text", ['"foo" OR bar*', "'; DROP TABLE persons;--",
                                  "NEAR(a b) AND NOT c:d", "%_*", "ö"])
def test_hostile_input_finds_nothing_and_breaks_nothing(
        qtbot: QtBot, window: MainWindow, cfg: Config, text: str) -> None:
    type_search(qtbot, window, text)
    assert window.message.text() == "" or "⚠" in window.message.text()
    if window.model.rowCount() == 0 and effective_query(text):
        assert window.count.text() == "Keine Treffer"
    with opening.open_register(cfg) as store:
        assert store.query("SELECT count(*) AS n FROM persons")[0]["n"] >= RESIDENTS
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    type_search(qtbot, window, "mueller")
    assert window.model.rowCount() > 0


def test_one_character_and_half_typed_dates_do_not_search(
        qtbot: QtBot, window: MainWindow) -> None:
    assert effective_query("m") == ""
    assert effective_query("12.08.") == ""
    assert effective_query("12.08.196") == ""
    assert effective_query("müller 12.0") == "müller"
    assert effective_query("12.08.1964") == "12.08.1964"
    type_search(qtbot, window, "m")
    assert window.model.rowCount() == 0 and window.count.text() == ""


def test_a_half_typed_date_keeps_the_hits(qtbot: QtBot, window: MainWindow) -> None:
    type_search(qtbot, window, "mueller")
    before = window.model.hits
    assert before
    type_search(qtbot, window, " 12.0")
    assert window.model.hits == before, "no flicker while the date is typed"
    type_search(qtbot, window, "8.1964")
    assert all(h.birth_date is not None and f"{h.birth_date:%d.%m.%Y}" == "12.08.1964"
               for h in window.model.hits)
    assert window.model.hits


def test_household_member_opens_from_the_person_view_by_keyboard(
        qtbot: QtBot, window: MainWindow, cfg: Config) -> None:
    with opening.open_register(cfg) as store:
        row = store.query(
            "SELECT p.family_name, p.first_names, p.birth_date FROM persons p "
            "WHERE p.household_id IN (SELECT household_id FROM persons GROUP BY household_id "
            "HAVING count(*) = 2) AND p.first_names NOT LIKE '% %' "
            "ORDER BY p.family_name LIMIT 1")[0]
    born = "{2}.{1}.{0}".format(*row["birth_date"].split("-"))
    type_search(qtbot, window, f"{search_form(row['family_name'])} {born}")
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
    first = window.person_view.record
    assert first is not None and len(first.household) == 1
    member = first.household[0]
    browser = window.person_view.focus_target
    browser.setFocus()
    qtbot.keyClick(browser, Qt.Key.Key_Tab)            # to the member's link
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(browser, Qt.Key.Key_Return)
    second = window.person_view.record
    assert second is not None and second.id == member.person_id


def test_typing_a_new_name_hides_the_previous_citizen(
        qtbot: QtBot, window: MainWindow) -> None:
    type_search(qtbot, window, "mueller")
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
    assert window.person_view.record is not None
    qtbot.keyClick(window.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.search, "sp")
    assert window.person_view.record is None


def test_status_bar_and_title_say_where_and_who(window: MainWindow) -> None:
    assert "DEMO" in window.windowTitle()
    status = window.status
    assert "Offline" in status.connection.text()
    # No central service configured: offline-only (the sync itself: tests/test_ui_sync.py).
    assert status.connection.accessibleName() == ("Verbindung: Offline, nur lokal – keine "
                                                  "Zentrale eingerichtet")
    assert status.who.text() == ("Arbeitsplatz Schalter 3 · Sachbearbeitung "
                                 f"{demo_actor('Schalter 3').name}")
    assert status.office.text() == "Bürgerbüro Lörrach"
    assert status.demo_badge is not None and "DEMO" in status.demo_badge.text()
    assert status.demo_badge.isVisible()
    status.connection.set_online(True)
    assert "Online" in status.connection.text()


def test_every_control_has_an_accessible_name(qtbot: QtBot, window: MainWindow) -> None:
    type_search(qtbot, window, "sperrlich")
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
    unnamed = unnamed_controls(window, "QSplitterHandle")
    assert unnamed == []
    for label in (window.message, window.count, window.status.who):
        assert label.accessibleName()


def test_tab_order_search_results_person(qtbot: QtBot, window: MainWindow) -> None:
    type_search(qtbot, window, "mueller bernd")
    with qtbot.waitSignal(window.db.person_done, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.keyClick(window.search, Qt.Key.Key_Tab)
    assert window.table.hasFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Tab)
    assert window.person_view.focus_target.hasFocus()
    qtbot.keyClick(window.person_view.focus_target, Qt.Key.Key_Backtab)
    assert window.table.hasFocus()


def test_english_window(qtbot: QtBot, register: Register) -> None:
    set_language("en")
    w = start_window(qtbot, MainWindow(make_cfg(register[0], language="en")))
    assert w.search.placeholderText().startswith("Name, date of birth")
    assert "Workstation Schalter 3" in w.status.who.text()
    qtbot.keyClicks(w.search, "31.02.1990")
    settle(qtbot, w)
    assert "date" in w.message.text().lower()
    qtbot.keyClick(w.search, Qt.Key.Key_Escape)
    qtbot.keyClicks(w.search, "zz")
    settle(qtbot, w)
    assert w.count.text() in ("No matches", "") or "match" in w.count.text()
    w.close()


def test_closing_the_window_stops_the_worker(qtbot: QtBot, cfg: Config) -> None:
    w = start_window(qtbot, MainWindow(cfg))
    thread = w.db._thread
    assert thread.isRunning()
    w.close()
    assert thread.isFinished()
    assert not w.db.is_running


def test_latest_search_wins_and_stale_answers_are_dropped(qtbot: QtBot, cfg: Config) -> None:
    db = DbWorker(cfg, demo_actor(cfg.workstation))
    answers: list[tuple[int, str]] = []
    db.search_done.connect(lambda seq, text, _hits, _more: answers.append((seq, text)))
    try:
        with qtbot.waitSignal(db.opened, timeout=10_000):
            db.start()
        word = "mueller anna"
        last = 0
        for end in range(2, len(word) + 1):   # one request per keystroke, no debounce
            last = db.search(word[:end], 50)
        qtbot.waitUntil(lambda: bool(answers), timeout=5000)
        qtbot.wait(200)
        assert answers == [(last, word)]
    finally:
        db.shutdown()
    assert not db.is_running


def test_production_window_says_no_demo(qtbot: QtBot, tmp_path: Path) -> None:
    clerk = Actor("emeier", "Schalter 3", ("sachbearbeitung",), "Eva Meier")
    w = MainWindow(make_cfg(tmp_path, mode="production"), clerk)
    qtbot.addWidget(w)
    assert w.status.who.text() == "Arbeitsplatz Schalter 3 · Sachbearbeitung Eva Meier"
    assert "DEMO" not in w.windowTitle()
    assert w.status.demo_badge is None
    assert all("DEMO" not in label.text() for label in w.findChildren(QLabel))


def test_hint_column_names_the_birth_name_a_hit_was_found_by(
        qtbot: QtBot, window: MainWindow, cfg: Config, tmp_path: Path) -> None:
    """Issue 14, defect 8: the current Wunderlichs first, then those born Wunderlich, whose
    hint column says so (typed without umlaut or capital, as clerks do)."""
    with opening.open_register(cfg) as store:
        born = add_person(store, "Abel", "Eva", "1970-01-01", former=("Wünderlich",))
        current = add_person(store, "Wünderlich", "Zora", "1980-01-01")
    type_search(qtbot, window, "wunderlich")
    assert [h.id for h in window.model.hits] == [current, born]
    hints = [window.model.data(window.model.index(row, COL_BLOCK)) for row in range(2)]
    assert hints == ["", "geb. Wünderlich"]
    window.grab().save(str(tmp_path / "hint.png"))

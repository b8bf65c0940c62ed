"""The bundle's trimmed ICU data (build_spec/icu_data.py) against the PySide6 wheel's own.

Qt runs in a child process with the trimmed libicudata preloaded (it takes the place of the
wheel's library of the same soname), so what is checked is what the frozen app's Qt does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BUILD_SPEC = Path(__file__).resolve().parent.parent / "build_spec"
sys.path.insert(0, str(BUILD_SPEC))

import icu_data  # noqa: E402

QT_LIB = Path(__import__("PySide6").__file__).parent / "Qt" / "lib"
ICU_DATA = sorted(QT_LIB.glob("libicudata.so.*"))

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not ICU_DATA,
                                reason="only the Linux PySide6 wheels link ICU")

# What the workstation's Qt does with ICU: German collation (names), time-zone names, case
# mapping, a Western code page; then a language whose data is gone (must not fail).
QT_USE = """
import functools
from PySide6.QtCore import QCollator, QDateTime, QLocale, QStringDecoder, QTimeZone
names = ["Zebra", "Öl", "Ober", "Müller", "Mueller", "Mahler", "ähnlich", "Ärger", "apfel"]
for tag in ("de_DE", "de_CH", "en_GB", "fr_FR"):
    collator = QCollator(QLocale(tag))
    print(tag, sorted(names, key=functools.cmp_to_key(collator.compare)))
    print(tag, QTimeZone(b"Europe/Berlin").displayName(
        QDateTime(2026, 1, 1, 12, 0, 0), QTimeZone.NameType.LongName, QLocale(tag)))
    print(tag, QLocale(tag).toUpper("Straße"))
for codec in ("windows-1252", "ISO-8859-15", "IBM850", "Shift_JIS"):
    print(codec, QStringDecoder(codec).isValid())
"""


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return icu_data.trimmed_library(ICU_DATA[0], QT_LIB / "libQt6Core.so.6",
                                    tmp_path_factory.mktemp("icu"))


def _qt_lines(preload: Path | None) -> list[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    proc = subprocess.run([sys.executable, "-c", QT_USE], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    return proc.stdout.splitlines()


def test_same_library_smaller_and_reproducible(trimmed: Path, tmp_path: Path) -> None:
    assert trimmed.name == ICU_DATA[0].name
    assert trimmed.stat().st_size < ICU_DATA[0].stat().st_size / 4
    symbol, _blob = icu_data.read_common_data(trimmed)
    assert symbol == icu_data.read_common_data(ICU_DATA[0])[0]
    again = icu_data.trimmed_library(ICU_DATA[0], QT_LIB / "libQt6Core.so.6", tmp_path)
    assert again.read_bytes() == trimmed.read_bytes()


def test_keeps_german_english_and_shared_data_only(trimmed: Path) -> None:
    _symbol, blob = icu_data.read_common_data(trimmed)
    _size, items = icu_data._entries(blob)
    names = {name.split("/", 1)[1] for name, _data in items}
    assert {"coll/root.res", "coll/de.res", "coll/ucadata.icu", "zone/de.res", "de_CH.res",
            "en_GB.res", "root.res", "pool.res", "zone/pool.res", "metaZones.res",
            "zoneinfo64.res", "supplementalData.res", "cnvalias.icu",
            "ibm-5348_P100-1997.cnv"} <= names  # windows-1252
    assert not names & {"fr.res", "coll/zh.res", "zone/tr.res", "gb18030.cnv"}
    assert not [n for n in names if n.startswith(("brkitr/", "translit/", "rbnf/"))]
    original = {name: data for name, data in icu_data._entries(
        icu_data.read_common_data(ICU_DATA[0])[1])[1]}
    assert all(original[name] == data for name, data in items)  # items unchanged


def test_qt_sorts_names_and_the_time_zone_in_german_as_with_the_full_data(trimmed: Path) -> None:
    full, cut = _qt_lines(None), _qt_lines(trimmed)
    assert len(full) == len(cut) == 16
    kept = ("de_", "en_", "windows-1252", "ISO-8859-15", "IBM850")
    assert [line for line in cut if line.startswith(kept)] == [
        line for line in full if line.startswith(kept)]
    assert "de_DE Mitteleuropäische Normalzeit" in cut
    assert any("'Mahler', 'Mueller', 'Müller'" in line for line in cut if line.startswith("de_"))
    assert "de_DE STRASSE" in cut
    # French: the root collation, time-zone names from the fallback; no crash.
    assert len([line for line in cut if line.startswith("fr_FR ")]) == 3
    assert "Shift_JIS False" in cut  # the East Asian code pages are gone


def test_a_qt_calling_other_icu_services_stops_the_build(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(icu_data, "QT_ICU_CALLS", ("ucnv_", "UCNV_", "u_strTo"))
    version = ICU_DATA[0].name.rsplit(".", 1)[1]
    with pytest.raises(SystemExit, match="ucol_open"):
        icu_data.check_qt_icu_calls(QT_LIB / "libQt6Core.so.6", version)

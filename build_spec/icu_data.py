"""Qt's ICU data cut down to what the workstation can use (Linux bundle only).

    python build_spec/icu_data.py LIBICUDATA [--qt-core LIBQT6CORE] [-o OUT_DIR]

libQt6Core in the Linux PySide6 wheels links ICU, and libicudata.so.NN is the largest file of
the bundle (32 MB): the data of every language and encoding ICU knows, as one "common data"
blob behind the symbol icudtNN_dat. The workstation is in German and English, so this script
writes a libicudata.so.NN with the same blob minus
  * the locale data (resource bundles named by a locale ID) of every other language: root,
    de* and en* stay, as with Qt's translations and Babel's locales (build_spec/clerk-app.spec);
  * the data of ICU services libQt6Core never calls: break iteration (brkitr/, with its 3 MB
    of Thai/Khmer/CJK dictionaries), transliteration (translit/), spelled-out numbers (rbnf/);
  * the multi-byte (East Asian) code pages: QStringConverter reports them as unknown
    encodings; the single-byte code pages (0.5 MB) stay.
Everything else (collation's root tables, time-zone names, the supplemental and likely-subtags
data, normalisation, the pools the locale files point into) stays as it is. What Qt's ICU
calls read was checked under strace with ICU_DATA set (collation, time-zone display names,
converters). Locales that were dropped fall back to root, as in any ICU without them (a
collator for "fr" sorts by the root order).

The ICU services libQt6Core imports are checked against the ones this cut was made for
(QT_ICU_CALLS): a Qt that calls another service (say ubrk_* for text boundaries) stops the
build until this list and the cut are revisited, instead of shipping data it cannot find.

The new library is assembled with binutils (`as`, `ld`; Debian: binutils), deterministically:
the same input gives the same bytes, so two builds still agree.
"""

from __future__ import annotations

import argparse
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

KEEP_LANGS = ("de", "en")
# Trees of ICU services that libQt6Core does not call (see QT_ICU_CALLS).
UNUSED_TREES = ("brkitr", "translit", "rbnf")
# The ICU calls of libQt6Core this cut was made for, by prefix: collation (QCollator),
# calendar/time zones (QTimeZone ids and display names), converters (QStringConverter), case
# mapping (QLocale::toUpper/toLower, which needs no data file).
QT_ICU_CALLS = ("ucol_", "ucal_", "ucnv_", "UCNV_", "u_strToUpper_", "u_strToLower_")
_LOCALE_ID = re.compile(r"^[a-z]{2,3}(_\w*)*$")  # de, de_AT, en_001, sr_Latn_RS, de__PHONEBOOK
_ALIGN = 16


# --- ELF (64-bit little-endian: the Linux wheels) ----------------------------------------------

def _elf_sections(image: bytes) -> list[tuple[str, int, int, int, int, int]]:
    """(name, type, addr, offset, size, link) of every section."""
    if image[:4] != b"\x7fELF" or image[4] != 2 or image[5] != 1:
        raise SystemExit("icu_data: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", image, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", image, 0x3A)
    raw = [struct.unpack_from("<IIQQQQII", image, shoff + i * shentsize) for i in range(shnum)]
    names_at = raw[shstrndx][4]

    def name(offset: int) -> str:
        start = names_at + offset
        return image[start:image.index(b"\0", start)].decode()

    return [(name(s[0]), s[1], s[3], s[4], s[5], s[6]) for s in raw]


def _dynamic_symbols(image: bytes) -> Iterator[tuple[str, int, int, int]]:
    """(name, value, size, section index) of every dynamic symbol."""
    sections = _elf_sections(image)
    for _name, kind, _addr, offset, size, link in sections:
        if kind != 11:  # SHT_DYNSYM
            continue
        strings = sections[link][3]
        for at in range(offset, offset + size, 24):
            st_name, _info, _other, shndx, value, sym_size = struct.unpack_from(
                "<IBBHQQ", image, at)
            end = image.index(b"\0", strings + st_name)
            yield image[strings + st_name:end].decode(), value, sym_size, shndx


def read_common_data(library: Path) -> tuple[str, bytes]:
    """(symbol name, blob) of the ICU data library's icudtNN_dat."""
    image = library.read_bytes()
    sections = _elf_sections(image)
    for name, value, size, shndx in _dynamic_symbols(image):
        if re.fullmatch(r"icudt\d+_dat", name) and shndx:
            _sname, _kind, addr, offset, sec_size, _link = sections[shndx]
            size = size or addr + sec_size - value
            start = offset + value - addr
            return name, image[start:start + size]
    raise SystemExit(f"icu_data: {library} has no icudtNN_dat symbol")


def check_qt_icu_calls(qt_core: Path, version: str) -> None:
    """Stop if libQt6Core calls an ICU service whose data the cut may have dropped."""
    suffix = f"_{version}"
    icu = {name for name, _v, _s, shndx in _dynamic_symbols(qt_core.read_bytes())
           if not shndx and name.endswith(suffix)}
    unknown = sorted(n for n in icu if not n.startswith(QT_ICU_CALLS))
    if unknown:
        raise SystemExit(f"icu_data: {qt_core.name} calls ICU services the data cut was not "
                         f"made for: {', '.join(unknown)}; revisit build_spec/icu_data.py")


# --- the common data blob ----------------------------------------------------------------------

def _entries(blob: bytes) -> tuple[int, list[tuple[str, bytes]]]:
    """(header size, [(item name, item bytes)]) of an ICU common data blob (format CmnD)."""
    header_size, = struct.unpack_from("<H", blob, 0)
    if blob[2:4] != b"\xda\x27" or blob[12:16] != b"CmnD" or blob[8] != 0:
        raise SystemExit("icu_data: not little-endian ICU common data")
    toc = header_size
    count, = struct.unpack_from("<I", blob, toc)
    pairs = [struct.unpack_from("<II", blob, toc + 4 + 8 * i) for i in range(count)]
    ends = [data for _name, data in pairs[1:]] + [len(blob) - toc]
    items = []
    for (name_at, data_at), end in zip(pairs, ends, strict=True):
        name = blob[toc + name_at:blob.index(b"\0", toc + name_at)].decode("ascii")
        items.append((name, blob[toc + data_at:toc + end]))
    return header_size, items


def _pad(size: int) -> int:
    return -size % _ALIGN


def cut_common_data(blob: bytes, keep: Callable[[str, bytes], bool]) -> bytes:
    """The blob with only the items `keep(name, data)` accepts, in the same (sorted) order:
    ICU finds items by binary search over the names."""
    header_size, items = _entries(blob)
    kept = [(name, data) for name, data in items if keep(name, data)]
    names = b"".join(name.encode("ascii") + b"\0" for name, _data in kept)
    toc_size = 4 + 8 * len(kept)
    data_at = toc_size + len(names) + _pad(toc_size + len(names))
    toc, name_at = [struct.pack("<I", len(kept))], toc_size
    for name, data in kept:
        toc.append(struct.pack("<II", name_at, data_at))
        name_at += len(name) + 1
        data_at += len(data) + _pad(len(data))
    body = b"".join(data + b"\0" * _pad(len(data)) for _name, data in kept)
    head = b"".join(toc) + names
    return blob[:header_size] + head + b"\0" * _pad(len(head)) + body


def _max_bytes_per_char(converter: bytes) -> int:
    """maxBytesPerChar of a .cnv item (UConverterStaticData after the item's data header:
    structSize, name[60], codepage, platform, conversionType, minBytesPerChar, maxBytesPerChar)."""
    header_size, = struct.unpack_from("<H", converter, 0)
    return int(converter[header_size + 4 + 60 + 4 + 3])


def wanted(name: str, data: bytes) -> bool:
    """Whether the workstation's bundle keeps the item `name` (icudtNNl/<tree>/<file>)."""
    parts = name.split("/")
    if len(parts) > 2 and parts[1] in UNUSED_TREES:
        return False
    stem, _, kind = parts[-1].rpartition(".")
    if kind == "res" and _LOCALE_ID.match(stem):
        return stem.split("_", 1)[0] in KEEP_LANGS
    if kind == "cnv":
        return _max_bytes_per_char(data) == 1
    return True


# --- the library -------------------------------------------------------------------------------

def write_library(blob: bytes, symbol: str, soname: str, out_dir: Path) -> Path:
    """A shared library `soname` in out_dir that exports `blob` as `symbol` (as ICU's own
    libicudata does), assembled and linked with binutils."""
    tools = {tool: shutil.which(tool) for tool in ("as", "ld")}
    missing = [tool for tool, path in tools.items() if path is None]
    if missing:
        raise SystemExit(f"icu_data: needs {' and '.join(missing)} from binutils to pack the "
                         "trimmed ICU data (Debian: apt-get install binutils)")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="icu-data-") as tmp:
        work = Path(tmp)
        (work / "data.bin").write_bytes(blob)
        (work / "data.s").write_text(
            "\t.section .rodata\n\t.balign 16\n"
            f"\t.globl {symbol}\n\t.type {symbol}, @object\n\t.size {symbol}, {len(blob)}\n"
            f'{symbol}:\n\t.incbin "data.bin"\n'
            '\t.section .note.GNU-stack,"",@progbits\n', encoding="ascii")
        subprocess.run([str(tools["as"]), "-o", "data.o", "data.s"], cwd=work, check=True)
        subprocess.run([str(tools["ld"]), "-shared", "-soname", soname, "-z", "noexecstack",
                        "--hash-style=gnu", "-o", "out.so", "data.o"], cwd=work, check=True)
        target = out_dir / soname
        shutil.copyfile(work / "out.so", target)
    return target


def trimmed_library(library: Path, qt_core: Path, out_dir: Path) -> Path:
    """libicudata (same soname) with only the data the workstation uses, written to out_dir."""
    symbol, blob = read_common_data(library)
    check_qt_icu_calls(qt_core, symbol[len("icudt"):-len("_dat")])
    return write_library(cut_common_data(blob, wanted), symbol, library.name, out_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", type=Path, help="libicudata.so.NN of the PySide6 wheel")
    parser.add_argument("--qt-core", type=Path,
                        help="libQt6Core.so.6 (default: beside the library)")
    parser.add_argument("-o", "--out-dir", type=Path, default=Path("."))
    args = parser.parse_args()
    target = trimmed_library(args.library, args.qt_core or args.library.with_name(
        "libQt6Core.so.6"), args.out_dir)
    print(f"{target}: {target.stat().st_size / 1e6:.1f} MB "
          f"(from {args.library.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()

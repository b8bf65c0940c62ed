"""Faker with the locales the demo register uses (de_DE, plus en_US, Faker's fallback for
providers without a German variant). Replaces pyinstaller-hooks-contrib's hook-faker, which
collects all ~90 locales: hooks in the spec's `hookspath` take precedence.

Faker finds its locales at run time by globbing `faker/providers/*/<locale>/__init__.py` on
disk when frozen (faker.utils.loading.list_module), so the providers' .py files are collected
as data too, as the contrib hook does.
"""

import re

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

KEEP_LOCALES = {"de", "de_DE", "en", "en_US"}
_LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Z][A-Za-z]{1,3})?$")


def _wanted(parts):
    """False for a module or file below a locale folder other than KEEP_LOCALES."""
    return not any(_LOCALE.match(p) and p not in KEEP_LOCALES for p in parts)


hiddenimports = collect_submodules(
    "faker.providers", filter=lambda name: _wanted(name.split(".")[2:]))
datas = [(src, dest) for src, dest in
         collect_data_files("faker.providers", include_py_files=True)
         if _wanted(dest.replace("\\", "/").split("/")[2:])]

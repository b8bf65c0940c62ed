"""Data files of the city: street directory, fee schedule, templates, translations.

A package only so that the files travel with the installed app and the PyInstaller bundle and
are found through `importlib.resources`; editable by IT without touching code.
"""

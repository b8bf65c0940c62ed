"""The PySide6 front end: windows, dialogs, view models. Thin: every action calls the core."""

"""The clerk workstation's domain core.

Everything a clerk can do is a function here, called the same way by the Qt UI (`ui`), the
command line (`clerk_app.command_line`) and the sync layer (`sync`). This package never
imports Qt, the UI or the network: it stays testable in milliseconds.
"""

__version__ = "0.1.0"

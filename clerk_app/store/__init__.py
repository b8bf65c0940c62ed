"""The local register: one SQLCipher-encrypted SQLite file, used through sqlite-utils."""

from clerk_app.store.db import Store, open_store

__all__ = ["Store", "open_store"]

"""Sync with the central service: the protocol, the workstation's engine and client, and the
reference central service (`sync.server`).

Depends on `clerk_app`, never on `ui`. The workstation's part comes with a plain install; the
central service's web stack and database drivers come with the `clerk-app[central]` extra and
are imported only by `sync.server` (tests/test_install.py holds both to it).
"""

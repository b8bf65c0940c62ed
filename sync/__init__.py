"""Sync with the central service: protocol, client engine and reference server (to come).

Depends on `clerk_app`, never on `ui`.
"""

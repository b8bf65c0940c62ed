"""Errors a clerk can meet, each with a German message for the screen and an English one for logs.

The two messages are separate on purpose: the German one may name what the clerk typed, the
English one goes to log files and must never carry personal data.
"""

from __future__ import annotations


class ClerkError(Exception):
    """An expected failure with a message the clerk can act on.

    `message_de` is shown in the UI; `message_en` is written to the log and must not contain
    personal data (names, birth dates, addresses).
    """

    def __init__(self, message_de: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_de = message_de
        self.message_en = message_en


class ConfigError(ClerkError):
    """The configuration (machine-wide, per-user or command line) is unusable."""


class KeyStoreError(ClerkError):
    """The register key cannot be loaded or kept safely."""


class NoKeyringError(KeyStoreError):
    """No keyring works on this machine (no Secret Service, no key file configured)."""


class KeyringLockedError(KeyStoreError):
    """The keyring exists but is locked; `can_prompt`: the backend can ask for its password
    (the window offers to unlock)."""

    def __init__(self, message_de: str, message_en: str, *, can_prompt: bool = False) -> None:
        super().__init__(message_de, message_en)
        self.can_prompt = can_prompt


class KeyMissingError(KeyStoreError):
    """The keyring (or key file folder) works, but the secret asked for is not in it."""


class StoreError(ClerkError):
    """The local register cannot be opened or written."""


class ValidationError(ClerkError):
    """Input that breaks a rule; `field` names the form field it belongs to, if any."""

    def __init__(self, message_de: str, message_en: str, field: str | None = None) -> None:
        super().__init__(message_de, message_en)
        self.field = field


class NotFoundError(ClerkError):
    """A record that was asked for does not exist (any more) in the local register."""


class FormError(ValidationError):
    """Several field errors of one form at once, so the clerk sees them all next to the fields.

    `errors` maps a field name to its German message.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        fields = ", ".join(sorted(errors))
        super().__init__("Bitte die markierten Angaben prüfen: " + "; ".join(errors.values()),
                         f"form has invalid fields: {fields}")
        self.errors = errors

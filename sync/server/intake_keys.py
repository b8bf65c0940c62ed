"""The office's destination keys for online applications (FIT-Connect's "Zustellpunkt").

Two kinds of RSA-4096 key pair: an encryption key (JWE, RSA-OAEP-256 with A256GCM) whose public
half portals encrypt submissions to, and a signing key (JWS, PS512) for the security events
sent back. The public halves and each key's life are rows of `intake_keys` in the central
database; the private halves never are: they live with the office, in a folder of key files
(mode 0600, `intake_key_dir`) or in the OS keyring, per configuration, and never in the
repository. A rollover publishes a new encryption key and retires the old one for new
submissions only: the old private key stays, so everything encrypted to it stays readable.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from joserfc.jwk import KeySet, RSAKey

from clerk_app.errors import KeyMissingError, NoKeyringError
from clerk_app.keys import (
    NO_KEYRING_DE,
    keyring_secret,
    read_secret_file,
    store_keyring_secret,
    write_secret_file,
)
from sync.server.storage import Database

log = logging.getLogger(__name__)

KEY_BITS = 4096  # FIT-Connect: at least 4,096 bit
ENCRYPTION, SIGNING = "enc", "sig"
ALGORITHMS = {ENCRYPTION: "RSA-OAEP-256", SIGNING: "PS512"}


class PrivateKeyStore(Protocol):
    """Where the office keeps its private keys, by key id (PEM text)."""

    def save(self, kid: str, pem: str) -> None: ...

    def load(self, kid: str) -> str: ...


class KeyFolder:
    """Private keys as files `<kid>.pem` of mode 0600 in a folder IT configured."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def save(self, kid: str, pem: str) -> None:
        write_secret_file(self.folder / f"{kid}.pem", pem)

    def load(self, kid: str) -> str:
        path = self.folder / f"{kid}.pem"
        if not path.exists():
            raise KeyMissingError(f"Der private Schlüssel {kid} fehlt in {self.folder}.",
                                  f"private intake key {kid} missing in {self.folder}")
        return read_secret_file(path)


class KeyringStore:
    """Private keys in the OS keyring, account `intake:<kid>`."""

    _unusable = NoKeyringError(NO_KEYRING_DE, "no usable keyring for the intake keys")

    def save(self, kid: str, pem: str) -> None:
        store_keyring_secret(f"intake:{kid}", pem, unusable=self._unusable,
                             what="der Schlüssel des Posteingangs")

    def load(self, kid: str) -> str:
        return keyring_secret(
            f"intake:{kid}", unusable=self._unusable,
            missing=KeyMissingError(f"Der private Schlüssel {kid} des Posteingangs fehlt im "
                                    "Schlüsselspeicher.", f"private intake key {kid} missing"),
            what="der Schlüssel des Posteingangs")


def private_key_store(key_dir: str) -> PrivateKeyStore:
    """The configured store: the key folder if IT set one, else the OS keyring."""
    return KeyFolder(Path(key_dir)) if key_dir else KeyringStore()


class IntakeKeys:
    """The destination's key pairs: public rows in the database, private halves in `store`."""

    def __init__(self, db: Database, store: PrivateKeyStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.store = store
        self.clock = clock
        self._private: dict[str, RSAKey] = {}

    def _rows(self, use: str) -> list[tuple[str, str, str | None]]:
        with self.db.transaction(write=False) as tx:
            return [(str(r[0]), str(r[1]), r[2]) for r in tx.execute(
                "SELECT kid, public_jwk, retired_at FROM intake_keys WHERE use = ? "
                "ORDER BY created_at, kid", (use,))]

    def ensure(self) -> None:
        """Make the first key pair of each kind if there is none (first start)."""
        for use in (ENCRYPTION, SIGNING):
            if not self._rows(use):
                self._new(use)

    def rollover(self) -> str:
        """A new encryption key for new submissions; the old one keeps decrypting. Returns
        the new key id."""
        return self._new(ENCRYPTION)

    def _new(self, use: str) -> str:
        kid = f"{use}-{uuid.uuid4()}"
        key = RSAKey.generate_key(KEY_BITS, parameters={"kid": kid, "use": use,
                                                        "alg": ALGORITHMS[use]}, private=True)
        pem = key.as_pem(private=True).decode("ascii")
        self.store.save(kid, pem)  # first: a published key is always decryptable
        now = self.clock().isoformat(timespec="seconds")
        public = key.as_dict(private=False)
        with self.db.transaction() as tx:
            tx.execute("UPDATE intake_keys SET retired_at = ? WHERE use = ? AND "
                       "retired_at IS NULL", (now, use))
            tx.execute("INSERT INTO intake_keys (kid, use, public_jwk, created_at) "
                       "VALUES (?, ?, ?, ?)", (kid, use, json.dumps(public, sort_keys=True), now))
        self._private[kid] = key
        log.info("new intake %s key %s", use, kid)
        return kid

    def public_jwks(self) -> dict[str, Any]:
        """What portals fetch: the current encryption key and every signing key (events
        signed with a retired one stay checkable)."""
        keys = [json.loads(jwk) for _, jwk, retired in self._rows(ENCRYPTION) if not retired]
        keys += [json.loads(jwk) for _, jwk, _ in self._rows(SIGNING)]
        return {"keys": keys}

    def _key(self, kid: str, use: str) -> RSAKey:
        key = self._private.get(kid)
        if key is None:
            key = RSAKey.import_key(self.store.load(kid),
                                    parameters={"kid": kid, "use": use, "alg": ALGORITHMS[use]})
            self._private[kid] = key
        return key

    def decryption_keys(self) -> KeySet:
        """Every encryption key ever published, current and retired (rollover)."""
        return KeySet([self._key(kid, ENCRYPTION) for kid, _, _ in self._rows(ENCRYPTION)])

    def signing_key(self) -> RSAKey:
        current = [kid for kid, _, retired in self._rows(SIGNING) if not retired]
        if not current:
            raise KeyMissingError("Der Posteingang hat keinen Signaturschlüssel.",
                                  "no intake signing key")
        return self._key(current[-1], SIGNING)

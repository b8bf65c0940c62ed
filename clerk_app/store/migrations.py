"""Forward-only schema migrations of the local register.

Each entry is one schema version; `PRAGMA user_version` records the version a file is at. A
released migration is never edited: a change is a new entry at the end, so that a laptop that
was offline for weeks opens with any older file. Tests open a database of every earlier version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlcipher3

from clerk_app.search_index import reindex_all
from clerk_app.store.chain_hash import chain_existing

if TYPE_CHECKING:
    import sqlite_utils

Migration = Callable[["sqlite_utils.Database"], None]

# Register tables. Persons are keyed by a UUID (created offline on any workstation without
# clashing) and carry a version for the sync's optimistic check.
V1_REGISTER = """
CREATE TABLE households (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE persons (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 1,
    family_name TEXT NOT NULL,
    birth_name TEXT,
    first_names TEXT NOT NULL DEFAULT '',
    everyday_name TEXT,
    doctorate TEXT,
    religious_name TEXT,
    artist_name TEXT,
    birth_date TEXT,
    birth_place TEXT,
    birth_country TEXT,
    sex TEXT NOT NULL DEFAULT 'x' CHECK (sex IN ('m', 'w', 'd', 'x')),
    nationalities TEXT NOT NULL DEFAULT '[]',
    religion TEXT,
    marital_status TEXT,
    marital_date TEXT,
    marital_place TEXT,
    household_id TEXT REFERENCES households(id),
    family_sf TEXT NOT NULL DEFAULT '',
    given_sf TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX persons_birth_date ON persons(birth_date);
CREATE INDEX persons_family_sf ON persons(family_sf);
CREATE INDEX persons_household ON persons(household_id);
CREATE TABLE former_names (
    id INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    valid_until TEXT
);
CREATE INDEX former_names_person ON former_names(person_id);
CREATE TABLE streets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_sf TEXT NOT NULL,
    district TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE
);
CREATE TABLE street_segments (
    id INTEGER PRIMARY KEY,
    street_id INTEGER NOT NULL REFERENCES streets(id),
    from_no INTEGER NOT NULL,
    to_no INTEGER NOT NULL,
    parity TEXT NOT NULL DEFAULT 'all' CHECK (parity IN ('all', 'odd', 'even')),
    postal_code TEXT NOT NULL
);
CREATE INDEX street_segments_street ON street_segments(street_id);
CREATE TABLE residences (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    version INTEGER NOT NULL DEFAULT 1,
    kind TEXT NOT NULL CHECK (kind IN ('alleinig', 'haupt', 'neben')),
    street_id INTEGER REFERENCES streets(id),
    street TEXT,
    house_number TEXT,
    postal_code TEXT,
    city TEXT,
    district TEXT,
    country TEXT NOT NULL DEFAULT 'DEU',
    foreign_address TEXT,
    move_in TEXT,
    move_out TEXT,
    previous_address TEXT
);
CREATE INDEX residences_person ON residences(person_id);
CREATE INDEX residences_street ON residences(street_id, house_number);
CREATE TABLE id_documents (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    doc_type TEXT NOT NULL,
    number TEXT NOT NULL,
    authority TEXT,
    issued_on TEXT,
    valid_until TEXT
);
CREATE INDEX id_documents_person ON id_documents(person_id);
CREATE INDEX id_documents_number ON id_documents(number);
CREATE TABLE information_blocks (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    kind TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    reason TEXT,
    since TEXT NOT NULL,
    until TEXT
);
CREATE INDEX information_blocks_person ON information_blocks(person_id);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    clerk TEXT NOT NULL,
    workstation TEXT NOT NULL,
    action TEXT NOT NULL,
    person_id TEXT,
    purpose TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_log_person ON audit_log(person_id);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# Type-ahead search: an FTS5 index over the DIN 91379 search forms of names, the birth date and
# the current addresses. Contentless: the text lives in the register tables already. Prefix
# indexes make the first keystrokes cheap. An entry's rowid is the person's order key (see
# `search_index.order_key`), so FTS5 hands matches over already in alphabetical order and a
# page of 50 is read without sorting thousands of matches.
V2_SEARCH = """
CREATE VIRTUAL TABLE person_fts USING fts5(
    names, born, address,
    content='', contentless_delete=1, tokenize='unicode61', prefix='1 2 3'
);
CREATE TABLE person_search_keys (
    key INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL UNIQUE REFERENCES persons(id)
);
"""

# Counter services as commands (see docs/architecture: one service = one transaction = one
# outbox row). The cash journal is append-only: triggers refuse UPDATE and DELETE, so a
# correction can only be a reversing entry.
V3_SERVICES = """
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    command_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    base_versions TEXT NOT NULL DEFAULT '{}',
    device TEXT NOT NULL,
    clerk TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'applied', 'conflict', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    result TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX outbox_status ON outbox(status, seq);
CREATE TABLE counters (
    series TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE registrations (
    id TEXT PRIMARY KEY,
    command_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('anmeldung', 'ummeldung', 'abmeldung')),
    registered_on TEXT NOT NULL,
    move_date TEXT NOT NULL,
    late INTEGER NOT NULL DEFAULT 0,
    landlord TEXT,
    persons TEXT NOT NULL
);
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    person_id TEXT REFERENCES persons(id),
    command_id TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    clerk TEXT NOT NULL,
    workstation TEXT NOT NULL,
    content TEXT NOT NULL,
    receipt_number TEXT
);
CREATE INDEX documents_person ON documents(person_id);
CREATE TABLE requests (
    id TEXT PRIMARY KEY,
    command_id TEXT NOT NULL,
    type TEXT NOT NULL,
    person_id TEXT REFERENCES persons(id),
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    created_at TEXT NOT NULL
);
CREATE TABLE cash_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    business_day TEXT NOT NULL,
    workstation TEXT NOT NULL,
    clerk TEXT NOT NULL,
    command_id TEXT NOT NULL,
    receipt_number TEXT NOT NULL,
    service TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('bar', 'karte', 'gebuehrenfrei')),
    amount_cents INTEGER NOT NULL,
    given_cents INTEGER,
    change_cents INTEGER,
    exemption TEXT,
    reverses INTEGER REFERENCES cash_journal(id),
    UNIQUE (receipt_number, reverses)
);
CREATE INDEX cash_journal_day ON cash_journal(workstation, business_day);
CREATE TRIGGER cash_journal_no_update BEFORE UPDATE ON cash_journal
BEGIN SELECT RAISE(ABORT, 'cash journal is append-only'); END;
CREATE TRIGGER cash_journal_no_delete BEFORE DELETE ON cash_journal
BEGIN SELECT RAISE(ABORT, 'cash journal is append-only'); END;
CREATE TABLE closings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workstation TEXT NOT NULL,
    business_day TEXT NOT NULL,
    clerk TEXT NOT NULL,
    at TEXT NOT NULL,
    last_entry_id INTEGER NOT NULL,
    totals TEXT NOT NULL,
    expected_cash_cents INTEGER NOT NULL,
    counted_cash_cents INTEGER NOT NULL,
    difference_cents INTEGER NOT NULL,
    UNIQUE (workstation, business_day)
);
CREATE TRIGGER closings_no_update BEFORE UPDATE ON closings
BEGIN SELECT RAISE(ABORT, 'closings are final'); END;
CREATE TRIGGER closings_no_delete BEFORE DELETE ON closings
BEGIN SELECT RAISE(ABORT, 'closings are final'); END;
"""


def run_script(conn: sqlcipher3.Connection, script: str) -> None:
    """Run semicolon-separated DDL inside the caller's transaction.

    `executescript` would commit first, which breaks the all-or-nothing migration.
    """
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlcipher3.complete_statement(buffer):
            conn.execute(buffer)
            buffer = ""
    if buffer.strip():
        conn.execute(buffer)


def _v1(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V1_REGISTER)


def _v2(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V2_SEARCH)  # filled by _v9, which replaces it


def _v3(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V3_SERVICES)


# The document archive (e-Akte copy): the PDF of every issued document as it was handed out,
# kept in the encrypted register until the sync engine has uploaded it (outbox command
# "archive_document"). One original per document, any number of reprints (Zweitschrift); an
# archived file is never changed or removed, and neither is the issued document's row.
V4_DOCUMENT_FILES = """
CREATE TABLE document_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_number TEXT NOT NULL REFERENCES documents(number),
    kind TEXT NOT NULL CHECK (kind IN ('original', 'zweitschrift')),
    created_at TEXT NOT NULL,
    clerk TEXT NOT NULL,
    workstation TEXT NOT NULL,
    command_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    seal TEXT,
    pdf BLOB NOT NULL
);
CREATE UNIQUE INDEX document_files_original ON document_files(document_number)
    WHERE kind = 'original';
CREATE INDEX document_files_number ON document_files(document_number, id);
CREATE TRIGGER document_files_no_update BEFORE UPDATE ON document_files
BEGIN SELECT RAISE(ABORT, 'archived documents are final'); END;
CREATE TRIGGER document_files_no_delete BEFORE DELETE ON document_files
BEGIN SELECT RAISE(ABORT, 'archived documents are final'); END;
CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents
BEGIN SELECT RAISE(ABORT, 'issued documents are final'); END;
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents
BEGIN SELECT RAISE(ABORT, 'issued documents are final'); END;
"""


def _v4(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V4_DOCUMENT_FILES)


# Drafts of service dialogs ("never lose typed work"): what a clerk typed into a dialog that
# was not completed, kept in the encrypted register only (never in a file or a log). One row
# per dialog, keyed by the dialog's command id, so a restored draft keeps its idempotency key;
# `run_service` deletes the row in the transaction that completes the command.
V5_DRAFTS = """
CREATE TABLE drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    person_id TEXT,
    command_id TEXT NOT NULL UNIQUE,
    clerk TEXT NOT NULL,
    workstation TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX drafts_owner ON drafts(clerk, workstation, updated_at);
"""


def _v5(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V5_DRAFTS)


# The sync engine's local state (see `sync.engine`). Central changes to a person who has
# commands not yet accepted by the central service are held back in `sync_held`, never written
# over local work; `conflicts` is the clerk's list of Klärfälle (both versions side by side).
# Cursors and timestamps live in `settings` under 'sync.*'.
V6_SYNC = """
CREATE TABLE sync_held (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    data TEXT,
    PRIMARY KEY (kind, id)
);
CREATE TABLE sync_seen (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE conflicts (
    command_id TEXT PRIMARY KEY REFERENCES outbox(command_id),
    detected_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('conflict', 'rejected')),
    reason TEXT NOT NULL,
    server_records TEXT NOT NULL DEFAULT '[]',
    local_records TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolving', 'resolved')),
    decision TEXT CHECK (decision IN ('local', 'central')),
    resolved_by TEXT,
    resolved_at TEXT,
    resolution_command_id TEXT
);
CREATE INDEX conflicts_state ON conflicts(state);
"""


def _v6(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V6_SYNC)


# The access log made tamper-evident (§ 40 BMG): each entry carries the hash of the previous one
# (`clerk_app.access_chain`), and triggers refuse UPDATE and DELETE. The only deletion is the
# retention's: entries up to a signed checkpoint, which keeps the rest of the chain verifiable.
# A Tagesabschluss with a cash difference names its reason and the Teamleitung clerk who
# confirmed it; Teamleitung may reopen a closed day (`day_reopenings`, with the reason), and
# the day is then closed again in a further round (`closings.round`).
# `clerk_logins` caches, per clerk, what the last online login confirmed (roles, display name,
# an argon2id verifier of the password) for an offline login within `offline_login_days`.
V7_ACCESS_CHAIN = """
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE TABLE audit_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    workstation TEXT NOT NULL,
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'access log checkpoints are final'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'access log checkpoints are final'); END;
CREATE TABLE closings_v7 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workstation TEXT NOT NULL,
    business_day TEXT NOT NULL,
    round INTEGER NOT NULL DEFAULT 1,
    clerk TEXT NOT NULL,
    at TEXT NOT NULL,
    last_entry_id INTEGER NOT NULL,
    totals TEXT NOT NULL,
    expected_cash_cents INTEGER NOT NULL,
    counted_cash_cents INTEGER NOT NULL,
    difference_cents INTEGER NOT NULL,
    difference_reason TEXT,
    confirmed_by TEXT,
    UNIQUE (workstation, business_day, round)
);
INSERT INTO closings_v7 (id, workstation, business_day, clerk, at, last_entry_id, totals,
    expected_cash_cents, counted_cash_cents, difference_cents)
SELECT id, workstation, business_day, clerk, at, last_entry_id, totals, expected_cash_cents,
    counted_cash_cents, difference_cents FROM closings;
DROP TABLE closings;
ALTER TABLE closings_v7 RENAME TO closings;
CREATE TRIGGER closings_no_update BEFORE UPDATE ON closings
BEGIN SELECT RAISE(ABORT, 'closings are final'); END;
CREATE TRIGGER closings_no_delete BEFORE DELETE ON closings
BEGIN SELECT RAISE(ABORT, 'closings are final'); END;
CREATE TABLE day_reopenings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workstation TEXT NOT NULL,
    business_day TEXT NOT NULL,
    closing_round INTEGER NOT NULL,
    clerk TEXT NOT NULL,
    at TEXT NOT NULL,
    reason TEXT NOT NULL,
    command_id TEXT NOT NULL,
    UNIQUE (workstation, business_day, closing_round)
);
CREATE TRIGGER day_reopenings_no_update BEFORE UPDATE ON day_reopenings
BEGIN SELECT RAISE(ABORT, 'reopenings are final'); END;
CREATE TRIGGER day_reopenings_no_delete BEFORE DELETE ON day_reopenings
BEGIN SELECT RAISE(ABORT, 'reopenings are final'); END;
CREATE TABLE clerk_logins (
    login TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    verifier TEXT NOT NULL,
    online_at TEXT NOT NULL
);
"""
V7_TRIGGERS = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN old.id > (SELECT coalesce(max(last_id), 0) FROM audit_checkpoints)
BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;
"""


def _v7(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V7_ACCESS_CHAIN)
    chain_existing(db.conn)
    run_script(db.conn, V7_TRIGGERS)


# Relations in the register (§ 3 (1) Nr. 9, 15-17 BMG): spouses and registered partners,
# children and parents, legal representatives and the minors they represent. A relation is
# stored once on each side (a row of each person's aggregate, see `clerk_app.relations`), so
# that a person's record replicates whole and reads without the other person's rows. No foreign
# key on `related_id`: the sync writes persons one by one, in any order.
V8_RELATIONS = """
CREATE TABLE relations (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    kind TEXT NOT NULL CHECK (kind IN ('ehegatte', 'lebenspartner', 'kind', 'elternteil',
                                       'vertreter', 'vertreten')),
    related_id TEXT NOT NULL,
    since TEXT,
    UNIQUE (person_id, kind, related_id)
);
CREATE INDEX relations_person ON relations(person_id);
CREATE INDEX relations_related ON relations(related_id);
"""


def _v8(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V8_RELATIONS)


# Type-ahead search whose cost does not grow with the register (issue 16): one row per
# search-form token and person, keyed (term, order key), so every step of a search is a
# bounded range scan of one B-tree read in display order, where FTS5 merged the whole doclist
# of every token a prefix matched (a two-letter prefix at a million residents: 30 ms). A
# person's terms also sit joined in `person_search_keys.words`, where the other words of a
# query are checked without reading the register (and from where a change removes them).
# The duplicate check of an Anmeldung (and the ID-card scan) looks persons up by family name
# and birth date: one index for both, not every Müller of a million read for one date.
V9_SEARCH_TERMS = """
DROP TABLE person_fts;
CREATE TABLE search_terms (
    term TEXT NOT NULL,
    key INTEGER NOT NULL,
    PRIMARY KEY (term, key)
) WITHOUT ROWID;
ALTER TABLE person_search_keys ADD COLUMN words TEXT NOT NULL DEFAULT '';
DROP INDEX persons_family_sf;
CREATE INDEX persons_family_born ON persons(family_sf, birth_date);
"""


def _v9(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V9_SEARCH_TERMS)
    reindex_all(db)


# The waiting room (clerk_app/queue): visits with their state columns for the queue views and
# the whole visit as JSON (`data`, names included: the register is encrypted; erased after
# the retention period), every change as an event (the statistics' source, no names), the
# walk-in ticket numbers drawn per day and group, and the "call next" requests already
# answered (a double press is answered with the same visit, never a second one).
V10_QUEUE = """
CREATE TABLE queue_visits (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    day TEXT NOT NULL,
    state TEXT NOT NULL,
    booking_number TEXT UNIQUE,
    counter TEXT,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX queue_visits_line ON queue_visits (location, day, state);
CREATE TABLE queue_visit_events (
    id TEXT PRIMARY KEY,
    visit_id TEXT NOT NULL REFERENCES queue_visits(id),
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    counter TEXT,
    clerk TEXT NOT NULL,
    workstation TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX queue_visit_events_visit ON queue_visit_events (visit_id, at);
CREATE INDEX queue_visit_events_at ON queue_visit_events (at);
CREATE TABLE queue_ticket_numbers (
    location TEXT NOT NULL,
    day TEXT NOT NULL,
    ticket_group TEXT NOT NULL,
    last_number INTEGER NOT NULL,
    issued INTEGER NOT NULL,
    PRIMARY KEY (location, day, ticket_group)
);
CREATE TABLE queue_requests (
    request_id TEXT PRIMARY KEY,
    visit_id TEXT,
    at TEXT NOT NULL
);
"""


def _v10(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V10_QUEUE)


# v11: the cash desk's day. The starting float (Wechselgeld) of one workstation and business
# day, counted into the closing's expected cash; the card terminal's receipt number of a card
# payment and the reason of a Storno, both in the journal (append-only like the rest of it).
V11_CASH_DAY = """
ALTER TABLE cash_journal ADD COLUMN terminal_receipt TEXT;
ALTER TABLE cash_journal ADD COLUMN reason TEXT;
CREATE TABLE cash_floats (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workstation TEXT NOT NULL,
    business_day TEXT NOT NULL,
    cents INTEGER NOT NULL CHECK (cents >= 0),
    clerk TEXT NOT NULL,
    at TEXT NOT NULL,
    command_id TEXT NOT NULL,
    UNIQUE (workstation, business_day)
);
CREATE TRIGGER cash_floats_no_update BEFORE UPDATE ON cash_floats
BEGIN SELECT RAISE(ABORT, 'cash floats are final'); END;
CREATE TRIGGER cash_floats_no_delete BEFORE DELETE ON cash_floats
BEGIN SELECT RAISE(ABORT, 'cash floats are final'); END;
"""


def _v11(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V11_CASH_DAY)


# v12: the inbox of online applications (`clerk_app.inbox`): the items as the last pull saw them,
# and the claims and outcomes queued for the central service.
V12_INBOX = """
CREATE TABLE inbox_items (
    submission_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    received_at TEXT NOT NULL,
    state TEXT NOT NULL,
    claimed_by TEXT,
    reason TEXT,
    data TEXT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    seq INTEGER NOT NULL,
    command_id TEXT
);
CREATE TABLE inbox_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL,
    action TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT
);
CREATE INDEX inbox_actions_pending ON inbox_actions (submission_id) WHERE status = 'pending';
CREATE TABLE eakte_exports (
    submission_id TEXT PRIMARY KEY REFERENCES inbox_items(submission_id),
    vorgang_id TEXT NOT NULL UNIQUE,
    process_id TEXT NOT NULL,
    exported_at TEXT NOT NULL,
    file TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('exported', 'filed', 'error')),
    error TEXT
);
"""
# Fees paid online (at the portal's payment provider) are booked as method 'online' with the
# provider's payment reference: the CHECK of the method is part of the table, so the journal
# is copied into a new one (ids kept: closings name their last entry by id).
V12_ONLINE_PAYMENTS = """
ALTER TABLE cash_journal RENAME TO cash_journal_v11;
CREATE TABLE cash_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    business_day TEXT NOT NULL,
    workstation TEXT NOT NULL,
    clerk TEXT NOT NULL,
    command_id TEXT NOT NULL,
    receipt_number TEXT NOT NULL,
    service TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('bar', 'karte', 'gebuehrenfrei', 'online')),
    amount_cents INTEGER NOT NULL,
    given_cents INTEGER,
    change_cents INTEGER,
    exemption TEXT,
    reverses INTEGER REFERENCES cash_journal(id),
    terminal_receipt TEXT,
    reason TEXT,
    payment_reference TEXT,
    UNIQUE (receipt_number, reverses)
);
INSERT INTO cash_journal (id, at, business_day, workstation, clerk, command_id, receipt_number,
                          service, method, amount_cents, given_cents, change_cents, exemption,
                          reverses, terminal_receipt, reason)
    SELECT id, at, business_day, workstation, clerk, command_id, receipt_number, service,
           method, amount_cents, given_cents, change_cents, exemption, reverses,
           terminal_receipt, reason
    FROM cash_journal_v11 ORDER BY id;
DROP TABLE cash_journal_v11;
CREATE INDEX cash_journal_day ON cash_journal(workstation, business_day);
CREATE TRIGGER cash_journal_no_update BEFORE UPDATE ON cash_journal
BEGIN SELECT RAISE(ABORT, 'cash journal is append-only'); END;
CREATE TRIGGER cash_journal_no_delete BEFORE DELETE ON cash_journal
BEGIN SELECT RAISE(ABORT, 'cash journal is append-only'); END;
"""


def _v12(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V12_INBOX)
    run_script(db.conn, V12_ONLINE_PAYMENTS)


# `relations_person` repeated the leading column of the relations' UNIQUE (person_id, kind,
# related_id) index, which answers the same lookups: one B-tree of UUID keys less per relation
# (measured on a 20,000-resident demo register: 89 of its 2,306 bytes a resident).
V13_RELATIONS_INDEX = "DROP INDEX IF EXISTS relations_person;"
# An archived PDF the centre has taken is kept once, in `document_files`: the base64 copy in its
# sent outbox row goes (the sync drops it at upload since this version).
V13_SENT_ARCHIVES = """
UPDATE outbox SET payload = json_remove(payload, '$.pdf_base64')
 WHERE type = 'archive_document' AND status = 'applied';
"""


def _v13(db: sqlite_utils.Database) -> None:
    run_script(db.conn, V13_RELATIONS_INDEX)
    run_script(db.conn, V13_SENT_ARCHIVES)


MIGRATIONS: list[Migration] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10, _v11,
                               _v12, _v13]
SCHEMA_VERSION = len(MIGRATIONS)

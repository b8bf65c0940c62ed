"""JSON text as the central service stores it (commands, ledger rows, aggregates read back).

A push stores some ten JSON documents a command and reads the aggregates it replays on; the
standard library's encoder and decoder took a tenth of the service's time for it. orjson
(a dependency of the service only, not of the workstation) does the same work several times
faster. Its text differs from `json.dumps`' only in spacing (no blank after `,` and `:`);
keys are sorted, non-ASCII text is kept as is. Aggregates' canonical form and content hash,
which workstations compute too, stay with `sync.aggregates` (the standard library on both
ends, byte for byte).
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(data: Any) -> str:
    """`data` as JSON text, keys sorted (one text for equal data)."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)

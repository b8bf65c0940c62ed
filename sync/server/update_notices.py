"""The central service publishes the release engineer's signed update notice.

`clerk-app central serve --update-notice FILE` serves FILE as it is at `/update-notice.json`
(outside the versioned API: no protocol headers, no device token, so that even a workstation
too old for the protocol learns of the update). The file is read at each request, so a new
release is published by replacing it, without a restart. The service cannot sign: the
signature was made offline with the release key (`build_spec/update_notice.py`), and the
workstations check it (`sync.update_notice`). Without a file the answer is 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Response

from sync.protocol import UPDATE_NOTICE_MAX_BYTES, UPDATE_NOTICE_PATH


def publish_update_notice(app: FastAPI, notice_file: Path) -> None:
    @app.get(UPDATE_NOTICE_PATH, include_in_schema=False)
    def update_notice() -> Response:
        try:
            with notice_file.open("rb") as fh:
                data = fh.read(UPDATE_NOTICE_MAX_BYTES + 1)
        except OSError:
            return Response(status_code=404)
        if len(data) > UPDATE_NOTICE_MAX_BYTES:  # the workstations would refuse it anyway
            return Response(status_code=404)
        return Response(data, media_type="application/json",
                        headers={"Cache-Control": "no-cache"})

"""The central service publishes the release engineer's signed update notice.

`clerk-app central serve --update-notice FILE` serves FILE as it is at `/update-notice.json`
(outside the versioned API: no protocol headers, no device token, so that even a workstation
too old for the protocol learns of the update). The file is read at each request, so a new
release is published by replacing it, without a restart. The service cannot sign: the
signature was made offline with the release key (`build_spec/update_notice.py`), and the
workstations check it (`sync.update_notice`). Without a file the answer is 404, in the
`Problem` shape like every refusal of the service.

It stays out of the OpenAPI document on purpose: it is a static, public file (no token, no
protocol headers, its body the release engineer's signed bytes as they are, not a model of
the API), which a reverse proxy may as well serve; the document describes the versioned API
that the workstations' protocol promises.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Response

from sync.protocol import UPDATE_NOTICE_MAX_BYTES, UPDATE_NOTICE_PATH, Problem
from sync.server.request_limits import problem_response

NO_NOTICE = Problem(message_de="Die Zentrale veröffentlicht keine Update-Mitteilung.",
                    message_en="no update notice is published")


def publish_update_notice(app: FastAPI, notice_file: Path) -> None:
    @app.get(UPDATE_NOTICE_PATH, include_in_schema=False)
    def update_notice() -> Response:
        try:
            with notice_file.open("rb") as fh:
                data = fh.read(UPDATE_NOTICE_MAX_BYTES + 1)
        except OSError:
            return problem_response(404, NO_NOTICE)
        if len(data) > UPDATE_NOTICE_MAX_BYTES:  # the workstations would refuse it anyway
            return problem_response(404, NO_NOTICE)
        return Response(data, media_type="application/json",
                        headers={"Cache-Control": "no-cache"})

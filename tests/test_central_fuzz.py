# ruff: noqa: F811 - the service fixtures are shared with tests/test_sync_service.py
"""The central service fuzzed from its own OpenAPI document (schemathesis): generated requests
against the real service process, on SQLite and PostgreSQL, with a device token and without.
Whatever comes, the answer is never a server error and always what the document says
(status code, content type, body schema). Bounded (`EXAMPLES` per operation) to fit CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from sync.client import CentralClient
from tests.test_sync_service import Service, service  # noqa: F401 - fixture

EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def token(service: Service) -> Iterator[str]:
    client = CentralClient(service.url)
    yield client.enrol(service.central.issue_enrolment_code("Fuzz"), "Fuzz").token
    client.close()


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "anonymous"])
def test_the_api_never_errs_and_keeps_to_its_document(service: Service, token: str,
                                                      with_token: bool) -> None:
    api = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"} if with_token else {}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)

        fuzz()

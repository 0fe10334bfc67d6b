"""The whole API fuzzed from its own OpenAPI description (schemathesis): no 500, no hang, no traceback."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from backends.http.operations import openapi
from backends.http.server import BackgroundServer
from tests.contract.conftest import TOKEN

schema = schemathesis.openapi.from_dict(openapi()).exclude(path="/api/v1/events/watch")  # an endless stream


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_the_schema_allows_makes_the_server_fail(case, server: BackgroundServer) -> None:  # type: ignore[no-untyped-def]
    response = case.call(base_url=server.url, headers={"authorization": f"Bearer {TOKEN}"}, timeout=60)
    assert response.status_code < 500, (case.as_curl_command(), response.status_code, response.text[:500])
    assert "Traceback" not in response.text

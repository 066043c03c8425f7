"""Hostile input: Schemathesis generates requests from the project's own OpenAPI document and sends
them to the Django WSGI app with a real token. No answer may be a 5xx, and every answer must match
the schema the document declares for it."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from aftersales.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes the connection after each request; Django's test client stops it
    doing so, and so must we, or the next example finds the test transaction's connection gone."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(net, keep_test_connection):
    # The administrator sees every object, so the generated ids reach the handlers' deepest paths.
    from tests.support import make_customer, make_machine

    owner = make_customer("王建国", "13812345678", province="河南省", city="周口市", county="太康县")
    make_machine("LX904-2026-000101", owner)
    return net.token(net.admin)


@schema.parametrize()
@settings(max_examples=5, derandomize=True, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_api_answers_hostile_input_without_server_errors(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

"""Schemathesis against the OpenAPI schema, in-process, with an owner's key: no 5xx, responses as documented.

Every operation of the schema served at /api/schema/ is fuzzed with generated valid input (a
fixed seed and derandomized generation, so CI sees the same cases on every run). The schema
declares no OpenAPI links; schemathesis infers them from the resources' names and ids
(dependency analysis, ~1,600 links), and the stateful test walks sequences of those links,
each scenario inside a savepoint rolled back at its end.

Only two checks run, the acceptance bar of issue 12: no response is a 5xx, and every response
whose status the schema documents matches its documented body. Requests go through Django's
full handler stack (middleware, authentication, tenancy, rate limits) inside the test's
transaction on the real PostgreSQL test database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.support.tenants import build_world, personal_key

EXAMPLES_PER_OPERATION = 5
STATEFUL_SCENARIOS = 12
STATEFUL_STEPS = 8
SEED = 12
CHECKS = [not_a_server_error, response_schema_conformance]
# Shared examples run under the test's own fixtures; these settings are about the run, not the API.
RUN_SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": list(HealthCheck), "database": None}


def fuzz_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Every workspace route fuzzes alice's acme/prod: random slugs would only ever meet 404.
            "parameters": {"org_slug": "acme", "ws_slug": "prod"},
            "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True, "database": "none"},
            "phases": {"coverage": {"enabled": False}},
        }
    )


def load_schema() -> Any:
    """The document /api/schema/ serves (same generator), bound to the WSGI app for in-process calls."""
    document = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    plain = json.loads(json.dumps(document, cls=DjangoJSONEncoder))
    loaded = schemathesis.openapi.from_dict(plain, config=fuzz_config())
    loaded.app = WSGIHandler()
    return loaded


schema = load_schema()


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """Requests share the test's transaction: Django must not close the connection after each (as its test client)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def owner_key(db: None, in_test_transaction: None) -> str:
    """A personal key of alice, owner of the acme organisation: every scope on every route."""
    world = build_world()
    return personal_key(world.alice, world.acme)


def test_schema_covers_the_api() -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 150, len(operations)
    assert all(op.path.startswith("/api/v1/") for op in operations)


@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(**RUN_SETTINGS)
def test_every_operation_answers_as_documented(case: schemathesis.Case[Any], owner_key: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {owner_key}"})
    case.validate_response(response, checks=CHECKS)


class OwnerStateMachine(schema.as_state_machine()):  # type: ignore[misc]
    """Walks the links schemathesis infers between operations, as alice."""

    key = ""
    scenario: Any = None
    calls: list[tuple[str, int]] = []  # (operation, status) of every step, across scenarios

    def setup(self) -> None:
        # Each scenario starts from the same database: hypothesis replays scenarios and needs them deterministic.
        self.scenario = transaction.atomic()
        self.scenario.__enter__()
        super().setup()

    def teardown(self) -> None:
        super().teardown()
        transaction.set_rollback(True)
        self.scenario.__exit__(None, None, None)

    def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
        return {"headers": {"Authorization": f"Bearer {self.key}"}}

    def after_call(self, response: Any, case: schemathesis.Case[Any]) -> None:
        self.calls.append((case.operation.label, response.status_code))

    def validate_response(self, response: Any, case: schemathesis.Case[Any], *args: Any, **kwargs: Any) -> None:
        case.validate_response(response, checks=CHECKS)


def test_linked_operations_in_sequence(owner_key: str) -> None:
    OwnerStateMachine.key = owner_key
    OwnerStateMachine.calls = []
    run_state_machine_as_test(
        OwnerStateMachine,
        settings=settings(
            max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS, derandomize=True, **RUN_SETTINGS
        ),
    )
    calls = OwnerStateMachine.calls
    succeeded = {operation for operation, status in calls if status < 300}
    print(f"stateful: {len(calls)} calls, {len({op for op, _ in calls})} operations, 2xx from {sorted(succeeded)}")
    assert len(calls) >= STATEFUL_SCENARIOS  # scenarios ran steps: the machine is not empty
    assert succeeded, calls

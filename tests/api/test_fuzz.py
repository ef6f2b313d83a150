"""A property-based fuzzer over the OpenAPI description (schemathesis), with tokens:
no input gives a server error or a status the description does not declare, and
every answer matches its declared schema. Bounded: a fixed number of examples per
operation, positive and negative, on both backends."""

from __future__ import annotations

import random
import time

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given
from hypothesis.errors import Unsatisfiable
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api.conftest import GATEWAY, Accounts
from tests.scenario import ColdChain

EXAMPLES = 25  # per operation and mode
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
SKIP = {("POST", "/logout")}  # a browser form: nothing to fuzz beyond the login tests


def test_no_input_breaks_the_api(chain: ColdChain, api: TestClient, accounts: Accounts) -> None:
    # Given a store with a lot and a shipment, and the accounts of every role
    chain.release(vials=50)
    chain.ship("BIOFARMA", "32", ("CV001", 5))
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    names = list(accounts.tokens)
    rng = random.Random(8)
    cases, failures, started = 0, [], time.perf_counter()
    timings: dict[str, float] = {}
    # When every operation is called with generated input, as a random account
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                                 phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            def call(case: schemathesis.Case) -> None:
                nonlocal cases
                cases += 1
                headers = accounts(rng.choice(names)) | GATEWAY
                if case.headers:
                    headers |= {k: v for k, v in case.headers.items() if k.lower() not in ("authorization",)}
                response = case.call(headers=headers)
                try:
                    case.validate_response(response, checks=CHECKS)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as failure:  # noqa: BLE001 - collected, reported together below
                    failures.append(f"{operation.method.upper()} {operation.path}: {str(failure)[:400]}")

            began = time.perf_counter()
            try:
                call()
            except Unsatisfiable:  # an operation with nothing to get wrong (no parameters, no body)
                pass
            timings[f"{operation.method.upper()} {operation.path} {mode.value}"] = time.perf_counter() - began
    elapsed = time.perf_counter() - started
    print(f"\nschemathesis: {cases} cases in {elapsed:.1f} s, {len(failures)} failures")
    for label, seconds in sorted(timings.items(), key=lambda item: -item[1])[:8]:
        print(f"  {seconds:5.1f} s  {label}")
    # Then nothing failed
    assert not failures, "\n".join(failures[:10])

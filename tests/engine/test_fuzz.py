"""A short schemathesis run against the engine: no request may get a 5xx.

`tests/benchmarks/fuzz_engine.py` runs the same fuzzing for longer.
"""

from collections.abc import Iterator

import pytest
from engine_harness import EngineProcess

from tests.benchmarks.fuzz_engine import fuzz, seed_records

EXAMPLES_PER_OPERATION = 15
# Seconds. Operations not reached by then get no cases, and the test still
# checks the ones that ran.
TIME_LIMIT = 45.0
MIN_OPERATIONS = 15


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """An engine of its own, since fuzzing creates uploads that other tests list."""
    folder = tmp_path_factory.mktemp("fuzz")
    server = EngineProcess(folder / "data", folder / "engine.log")
    server.start()
    yield server
    server.close()


def test_fuzz_finds_no_server_error(
    fuzz_engine: EngineProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    known_ids = seed_records(fuzz_engine, tmp_path_factory.mktemp("seed"))

    reports = fuzz(
        fuzz_engine.base_url,
        known_ids,
        examples=EXAMPLES_PER_OPERATION,
        seconds=TIME_LIMIT,
        deterministic=True,
    )

    server_errors = [line for report in reports for line in report.server_errors]
    assert server_errors == []
    assert len(reports) >= MIN_OPERATIONS
    assert sum(report.cases for report in reports) > 0
    assert fuzz_engine.client.get("/health").status_code == 200
    assert "Traceback" not in fuzz_engine.log()

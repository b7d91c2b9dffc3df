"""Fuzz the local engine's HTTP API from its OpenAPI schema with schemathesis.

Every operation of ``/openapi.json`` gets requests that schemathesis generates
from the schema (hypothesis underneath). Half of them name a real upload and a
real completed model in their path, so that bodies are also tried against
records that exist. A 5xx response fails the run; any 4xx is acceptable.

Run from the repository root, with the project's environment:

    .venv/bin/python -m tests.benchmarks.fuzz_engine                 # 200 per operation
    .venv/bin/python -m tests.benchmarks.fuzz_engine --examples 1000 --seconds 900

It starts its own engine process on a loopback port with a temporary data
folder. It prints one line per operation (cases sent, status codes seen) and
every 5xx with the request that caused it, and exits with status 1 if there was
any.
The test suite runs the same function with a few examples per operation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

# Operations that would remove the real records: they get generated ids only.
DESTRUCTIVE_METHODS = frozenset({"DELETE"})
# Seconds for one request. The engine responds in milliseconds unless a build
# request downloads a dataset URL.
REQUEST_TIMEOUT = 30.0


@dataclass
class OperationReport:
    """What one operation received and returned."""

    label: str
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    """One line per 5xx: the request and the start of the response."""


def fuzz(
    base_url: str,
    known_ids: dict[str, str],
    *,
    examples: int,
    seconds: float,
    seed: int | None = None,
    deterministic: bool = False,
) -> list[OperationReport]:
    """Send generated requests to every operation; return a report per operation.

    ``known_ids`` maps path parameters (``upload_id``, ``model_name``,
    ``model_version``) to values of records that exist. The run stops sending
    once ``seconds`` have passed, even before ``examples`` cases per operation.
    ``deterministic`` makes hypothesis generate the same cases on every run.
    """
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    deadline = time.monotonic() + seconds
    reports = []
    for result in schema.get_all_operations():
        operation = result.ok()
        report = OperationReport(f"{operation.method.upper()} {operation.path}")
        reports.append(report)
        send = _sender(base_url, operation, known_ids, report, deadline)
        configured = settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=deterministic,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(send)
        if seed is not None:
            configured = hypothesis_seed(seed)(configured)
        configured()
    return reports


def _sender(
    base_url: str,
    operation: Any,
    known_ids: dict[str, str],
    report: OperationReport,
    deadline: float,
) -> Any:
    """Return a hypothesis test that sends one generated case and records it."""
    use_known = operation.method.upper() not in DESTRUCTIVE_METHODS

    @given(case=operation.as_strategy(), with_known_ids=st.booleans())
    def send(case: Any, with_known_ids: bool) -> None:
        if time.monotonic() > deadline:
            return
        if use_known and with_known_ids:
            for name, value in (case.path_parameters or {}).items():
                case.path_parameters[name] = known_ids.get(name, value)
        response = case.call(base_url=base_url, timeout=REQUEST_TIMEOUT)
        report.cases += 1
        report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            request = f"{case.method} {case.formatted_path} body={case.body!r}"
            report.server_errors.append(
                f"{response.status_code} for {request[:300]}: {response.text[:300]}"
            )

    return send


def print_reports(reports: list[OperationReport]) -> int:
    """Print a line per operation and every 5xx; return the number of 5xx."""
    width = max(len(report.label) for report in reports)
    for report in reports:
        statuses = " ".join(
            f"{code}x{count}" for code, count in sorted(report.statuses.items())
        )
        print(f"{report.label:<{width}}  {report.cases:>6} cases  {statuses}")
    errors = [line for report in reports for line in report.server_errors]
    print(f"\n{sum(r.cases for r in reports)} cases, {len(errors)} with a 5xx")
    for line in errors:
        print(f"  {line}")
    return len(errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples", type=int, default=200, help="cases per operation (default 200)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=600.0,
        help="time limit of the whole run, in seconds (default 600)",
    )
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed")
    options = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
    from engine_harness import EngineProcess

    with tempfile.TemporaryDirectory(prefix="fuzz-engine-") as folder:
        engine = EngineProcess(Path(folder) / "data", Path(folder) / "engine.log")
        engine.start()
        try:
            known_ids = seed_records(engine, Path(folder))
            started = time.monotonic()
            reports = fuzz(
                engine.base_url,
                known_ids,
                examples=options.examples,
                seconds=options.seconds,
                seed=options.seed,
            )
            errors = print_reports(reports)
            print(f"{time.monotonic() - started:.0f} s")
        finally:
            engine.close()
    return 1 if errors else 0


def seed_records(engine: Any, folder: Path) -> dict[str, str]:
    """Upload a small table and train a model on it; return their ids."""
    path = folder / "seed.csv"
    rows = [f"{n % 10},{n % 3},{'yes' if n % 10 > 4 else 'no'}" for n in range(40)]
    path.write_text("x,z,label\n" + "\n".join(rows) + "\n")
    upload_id = engine.upload(path)
    version = engine.start_build(
        "fuzzed", goal="predict the label", upload_id=upload_id, max_iterations=1
    )
    status = engine.wait_for("fuzzed", version)
    assert status["status"] == "completed", status
    return {"upload_id": upload_id, "model_name": "fuzzed", "model_version": version}


if __name__ == "__main__":
    sys.exit(main())

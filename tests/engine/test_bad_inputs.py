"""Bad datasets and bad build requests: a 4xx that names the problem, or a build.

Never a 5xx, never a build left in `building`, and after each case the engine
still responds to /health and predicts with a model trained before. The session's
shared engine serves the whole table, so the model trained before is the one
other tests use too.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from engine_harness import EngineProcess

# Seconds a build of the table may take before the test calls it stuck. The
# builds themselves carry a shorter `timeout`.
BUILD_LIMIT = 90.0
BUILD_TIMEOUT = 20
TERMINAL = {"completed", "failed", "cancelled"}


def lines(count: int, row: Callable[[int], str]) -> str:
    return "".join(row(number) + "\n" for number in range(count))


def yes_no(number: int) -> str:
    return "yes" if number % 2 else "no"


def garbage(size: int) -> bytes:
    chooser = random.Random(20250314)
    return bytes(chooser.randrange(256) for _ in range(size))


@dataclass(frozen=True)
class Case:
    """A dataset, the goal of its build, and what the engine must do with it."""

    content: bytes
    built: bool
    """True: the build completes. False: a 4xx on the upload or the build."""
    words: tuple[str, ...] = ()
    """Text the 4xx message must contain."""
    goal: str = "predict the target"
    row: dict[str, Any] = field(default_factory=dict)
    """Values of a row to predict once built; other features get 0."""
    features: set[str] | None = None
    """The features the build must keep, when the case is about them."""


WIDE_HEADER = ",".join(f"c{column}" for column in range(500))

CASES: dict[str, Case] = {
    "empty.csv": Case(b"", False, ("empty.csv", "the file is empty")),
    "header-only.csv": Case(b"a,b,target\n", False, ("no data rows",)),
    "single-class.csv": Case(
        ("a,b,target\n" + lines(40, lambda n: f"{n},{n % 3},yes")).encode(),
        False,
        ("'target'", "fewer than two classes"),
    ),
    "target-all-missing.csv": Case(
        ("a,b,target\n" + lines(40, lambda n: f"{n},{n % 3},")).encode(),
        False,
        ("Only 0 rows have a value for 'target'",),
    ),
    "colon-delimited.csv": Case(
        ("a:b:target\n" + lines(40, lambda n: f"{n}:{n % 3}:{yes_no(n)}")).encode(),
        False,
        ("a:b:target",),
    ),
    "pipe-delimited.csv": Case(
        (
            "a|b|target\n" + lines(40, lambda n: f"{n % 10}|{n % 3}|{yes_no(n)}")
        ).encode(),
        True,
        features={"a", "b"},
    ),
    "utf-16.csv": Case(
        ("a,b,target\n" + lines(40, lambda n: f"{n % 10},{n % 3},{yes_no(n)}")).encode(
            "utf-16"
        ),
        True,
        features={"a", "b"},
    ),
    "utf-16-no-mark.csv": Case(
        ("a,b,target\n" + lines(40, lambda n: f"{n},{n % 3},{yes_no(n)}")).encode(
            "utf-16-le"
        ),
        False,
        ("NUL bytes", "UTF-8"),
    ),
    "ragged.csv": Case(
        (
            "a,b,target\n"
            + lines(40, lambda n: f"{n},{n % 3},{yes_no(n)}" + (",x" if n == 7 else ""))
        ).encode(),
        False,
        ("line 9 has 4 fields, but the header has 3",),
    ),
    "short-rows.csv": Case(
        (
            "a,b,target\n"
            + lines(
                40,
                lambda n: (
                    f"{n % 10},{yes_no(n)}" if n % 5 == 0 else f"{n % 10},1,x{n % 2}"
                ),
            )
        ).encode(),
        True,
        row={"a": 3, "b": 1},
    ),
    "garbage.csv": Case(garbage(4096), False, ("NUL bytes",)),
    "garbage.json": Case(garbage(4096), False, ("garbage.json",)),
    "duplicate-names.csv": Case(
        ("a,a,target\n" + lines(40, lambda n: f"{n},{n},{yes_no(n)}")).encode(),
        False,
        ("['a'] appear more than once",),
    ),
    "unicode-names.csv": Case(
        (
            "âge,城市,目标\n"
            + lines(
                60, lambda n: f"{20 + n % 10},{'北京' if n % 2 else '上海'},{yes_no(n)}"
            )
        ).encode(),
        True,
        goal="predict 目标",
        row={"âge": 30, "城市": "北京"},
        features={"âge", "城市"},
    ),
    "one-member-class.csv": Case(
        (
            "a,b,target\n"
            + lines(60, lambda n: f"{n % 10},{n % 3},{'lone' if n == 5 else yes_no(n)}")
        ).encode(),
        True,
        row={"a": 3, "b": 0},
    ),
    "500-columns.csv": Case(
        (
            f"{WIDE_HEADER},target\n"
            + lines(
                40,
                lambda n: (
                    ",".join(str(n * c % 7) for c in range(500)) + f",{yes_no(n)}"
                ),
            )
        ).encode(),
        True,
    ),
    "id-columns.csv": Case(
        (
            "id,customer_uuid,a,target\n"
            + lines(60, lambda n: f"{n},{n * 7919:016x},{n % 5},{yes_no(n % 5 > 2)}")
        ).encode(),
        True,
        row={"a": 4},
        features={"a"},
    ),
}


def check_still_serving(engine: EngineProcess, model: tuple[str, str]) -> None:
    """Check /health, and a prediction of a model trained before the case."""
    assert engine.client.get("/health").status_code == 200
    name, version = model
    schema = engine.client.get(f"/models/{name}/{version}").json()["input_schema"]
    row = dict.fromkeys(schema, 1.0)
    output = engine.client.post(f"/models/{name}/{version}/infer", json=row)
    assert output.status_code == 200, output.text
    assert output.json()["diagnosis"] in ("benign", "malignant")


def check_rejection(response: httpx.Response, words: tuple[str, ...]) -> None:
    assert 400 <= response.status_code < 500, response.text
    message = response.json()["error"]["message"]
    for word in words:
        assert word in message


def upload(engine: EngineProcess, filename: str, content: bytes) -> httpx.Response:
    """Create an upload, PUT the bytes, and return the confirmation's response."""
    created = engine.client.post(
        "/uploads", json={"filename": filename, "content_type": "text/csv"}
    ).json()
    put = httpx.put(created["presigned_url"], content=content, timeout=30.0)
    assert put.status_code == 200, put.text
    return engine.client.post(
        "/uploads/status",
        json={"upload_id": created["upload_id"], "s3_key": created["key"]},
    )


@pytest.mark.parametrize("filename", list(CASES))
def test_bad_dataset(
    engine: EngineProcess, cancer_model: tuple[str, str], filename: str
) -> None:
    case = CASES[filename]

    confirmed = upload(engine, filename, case.content)
    if confirmed.status_code != 200:
        assert not case.built, confirmed.text
        check_rejection(confirmed, case.words)
        check_still_serving(engine, cancer_model)
        return

    body = {
        "goal": case.goal,
        "upload_id": confirmed.json()["upload_id"],
        "max_iterations": 1,
        "timeout": BUILD_TIMEOUT,
    }
    started = engine.client.post("/models/table", json=body)
    if started.status_code != 202:
        assert not case.built, started.text
        check_rejection(started, case.words)
        check_still_serving(engine, cancer_model)
        return

    version = started.json()["model_version"]
    status = engine.wait_for("table", version, timeout=BUILD_LIMIT)
    assert status["status"] == "completed", status
    assert case.built
    schema = engine.client.get(f"/models/table/{version}").json()["input_schema"]
    if case.features is not None:
        assert set(schema) == case.features
    row = {feature: case.row.get(feature, 0) for feature in schema}
    output = engine.client.post(f"/models/table/{version}/infer", json=row)
    assert output.status_code == 200, output.text
    check_still_serving(engine, cancer_model)


@pytest.fixture(scope="module")
def good_upload(engine: EngineProcess) -> str:
    content = "a,b,target\n" + lines(40, lambda n: f"{n},{n % 3},{yes_no(n)}")
    confirmed = upload(engine, "good.csv", content.encode())
    assert confirmed.status_code == 200, confirmed.text
    return str(confirmed.json()["upload_id"])


REQUEST_CASES: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "unknown-upload": ("ok", {"upload_id": "upl_nothere"}, ("'upl_nothere'",)),
    "upload-id-path": ("ok", {"upload_id": "../uploads/x"}, ("'../uploads/x'",)),
    "unknown-metric": ("ok", {"metric": "happiness"}, ("happiness", "roc_auc")),
    "zero-iterations": ("ok", {"max_iterations": 0}, ("max_iterations",)),
    "million-iterations": ("ok", {"max_iterations": 1_000_000}, ("max_iterations",)),
    "missing-goal": ("ok", {"goal": None}, ("goal is required",)),
    "empty-goal": ("ok", {"goal": ""}, ("goal",)),
    "schema-missing-column": (
        "ok",
        {"goal": "make something", "output_schema": {"shoe_size": "int"}},
        ("output_schema", "Columns: a, b, target."),
    ),
    "input-schema-missing-column": (
        "ok",
        {"input_schema": {"a": "int", "shoe_size": "int"}},
        ("shoe_size",),
    ),
    "name-with-space": ("bad%20name", {}, ("'bad name'",)),
    "name-dot-dot": ("%2E%2E", {}, ("'..'",)),
    "name-with-dots": ("..%2F..%2Fescape", {}, ()),
    "name-with-slash": ("a/b", {}, ()),
    "name-encoded-slash": ("a%2Fb", {}, ()),
    "name-with-nul": ("a%00b", {}, ()),
}


@pytest.mark.parametrize("case", list(REQUEST_CASES))
def test_bad_build_request(
    engine: EngineProcess,
    cancer_model: tuple[str, str],
    good_upload: str,
    case: str,
) -> None:
    name, fields, words = REQUEST_CASES[case]
    body = {"goal": "predict the target", "upload_id": good_upload, **fields}
    body = {key: value for key, value in body.items() if value is not None}

    models = engine.data_dir / "models"
    before = sorted(models.iterdir())

    response = engine.client.post(f"/models/{name}", json=body)

    check_rejection(response, words)
    check_still_serving(engine, cancer_model)
    assert sorted(models.iterdir()) == before
    assert not (engine.data_dir.parent / "escape").exists()

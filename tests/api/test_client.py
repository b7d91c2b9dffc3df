"""PlexeClient against the fake platform: builds, status, lists and inference."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from plexe_tui.api import (
    BuildRef,
    BuildRequest,
    PlexeClient,
    is_terminal,
)
from plexe_tui.api.errors import (
    ApiError,
    ConflictError,
    NotFoundError,
    ProtocolError,
)
from tests.fake_platform import FAKE_API_KEY, FakePlatform

STATUS_PATH = "/models/churn/1/status"


# Starting a build


async def test_start_build_canonical_answer(
    client: PlexeClient, platform: FakePlatform
) -> None:
    ref = await client.start_build("churn", BuildRequest(goal="predict churn"))

    assert ref == BuildRef(model_name="churn", model_version="1", status="pending")
    assert platform.count("POST", "/models/churn") == 1


async def test_start_build_sends_canonical_body(
    client: PlexeClient, platform: FakePlatform
) -> None:
    request = BuildRequest(
        goal="predict churn [monthly]",
        upload_id="upl-9",
        input_schema={"age": "int", "city": "str"},
        output_schema={"churned": "bool"},
        metric="roc_auc",
        max_iterations=3,
        provider="openai/gpt-4o-mini",
    )

    await client.start_build("churn", request)

    sent = platform.requests_to("POST", "/models/churn")[0]
    assert sent.json() == {
        "goal": "predict churn [monthly]",
        "upload_id": "upl-9",
        "input_schema": {"age": "int", "city": "str"},
        "output_schema": {"churned": "bool"},
        "metric": "roc_auc",
        "max_iterations": 3,
        "provider": "openai/gpt-4o-mini",
    }
    assert sent.headers["x-api-key"] == FAKE_API_KEY
    assert sent.headers["content-type"] == "application/json"


async def test_start_build_omits_none_fields(
    client: PlexeClient, platform: FakePlatform
) -> None:
    await client.start_build("churn", BuildRequest(goal="g", metric="f1"))

    sent = platform.requests_to("POST", "/models/churn")[0]
    assert sent.json() == {"goal": "g", "metric": "f1"}


async def test_start_build_next_version(client: PlexeClient) -> None:
    await client.start_build("churn", BuildRequest(goal="g"))
    second = await client.start_build("churn", BuildRequest(goal="g"))

    assert second.model_version == "2"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(
            {"model_id": "churn:7", "status": "QUEUED"},
            BuildRef("churn", "7", "pending"),
            id="model-id",
        ),
        pytest.param(
            {"model_id": "team:churn:7"},
            BuildRef("team:churn", "7", "pending"),
            id="model-id-with-colon-in-name",
        ),
        pytest.param(
            {"job_id": "job-42", "status": "processing"},
            BuildRef("churn", "job-42", "building"),
            id="job-id",
        ),
        pytest.param(
            {"job_id": "churn:3"},
            BuildRef("churn", "3", "pending"),
            id="job-id-with-version",
        ),
        pytest.param(
            {"model_name": "churn", "model_version": 5},
            BuildRef("churn", "5", "pending"),
            id="numeric-version",
        ),
    ],
)
async def test_start_build_answer_variants(
    client: PlexeClient,
    platform: FakePlatform,
    answer: dict[str, Any],
    expected: BuildRef,
) -> None:
    platform.respond("POST", "/models/churn", json=answer)

    ref = await client.start_build("churn", BuildRequest(goal="g"))

    assert ref == expected


async def test_start_build_without_version(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond("POST", "/models/churn", json={"status": "pending"})

    with pytest.raises(ProtocolError, match="model_version"):
        await client.start_build("churn", BuildRequest(goal="g"))


async def test_start_build_array_answer(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond("POST", "/models/churn", json=["churn", "1"])

    with pytest.raises(ProtocolError):
        await client.start_build("churn", BuildRequest(goal="g"))


async def test_start_build_empty_body(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond("POST", "/models/churn", status=201)

    with pytest.raises(ProtocolError):
        await client.start_build("churn", BuildRequest(goal="g"))


# Build status


async def test_status_all_fields(client: PlexeClient, platform: FakePlatform) -> None:
    platform.respond(
        "GET",
        STATUS_PATH,
        json={
            "model_name": "churn",
            "model_version": "1",
            "status": "building",
            "build_progress": 40,
            "phase": "search",
            "iteration": 2,
            "max_iterations": 5,
            "result": {"metric_name": "roc_auc", "metric_value": 0.91},
            "error": None,
            "created_at": "2025-01-02T03:04:05Z",
            "updated_at": "2025-01-02T03:09:05Z",
        },
    )

    status = await client.get_status("churn", "1")

    assert status.status == "building"
    assert status.build_progress == 40.0
    assert status.phase == "search"
    assert status.iteration == 2
    assert status.max_iterations == 5
    assert status.metric_name == "roc_auc"
    assert status.metric_value == 0.91
    assert status.error is None
    assert status.created_at == "2025-01-02T03:04:05Z"
    assert status.updated_at == "2025-01-02T03:09:05Z"


async def test_status_minimal_answer(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond("GET", STATUS_PATH, json={"status": "building"})

    status = await client.get_status("churn", "1")

    assert status.model_name == "churn"
    assert status.model_version == "1"
    assert status.status == "building"
    assert status.build_progress is None
    assert status.phase is None
    assert status.iteration is None
    assert status.max_iterations is None
    assert status.metric_value is None


async def test_status_default_flow(client: PlexeClient, platform: FakePlatform) -> None:
    ref = await client.start_build("churn", BuildRequest(goal="predict churn"))
    platform.set_build(
        "churn",
        ref.model_version,
        status="COMPLETED",
        result={"metric_name": "f1", "metric_value": 0.8},
    )

    status = await client.get_status("churn", ref.model_version)

    assert status.status == "completed"
    assert status.metric_name == "f1"
    assert status.metric_value == 0.8
    assert platform.requests_to("GET", STATUS_PATH)[0].headers["x-api-key"] == (
        FAKE_API_KEY
    )


async def test_status_numbers_as_text(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "GET",
        STATUS_PATH,
        json={"status": "running", "build_progress": "55.5", "iteration": "3"},
    )

    status = await client.get_status("churn", "1")

    assert status.build_progress == 55.5
    assert status.iteration == 3


async def test_status_unreadable_numbers(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "GET",
        STATUS_PATH,
        json={"status": "running", "build_progress": "soon", "iteration": True},
    )

    status = await client.get_status("churn", "1")

    assert status.build_progress is None
    assert status.iteration is None


async def test_status_failed_with_error(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "GET",
        STATUS_PATH,
        json={"status": "FAILED", "error": "column [price] has no values"},
    )

    status = await client.get_status("churn", "1")

    assert status.status == "failed"
    assert status.error == "column [price] has no values"


async def test_status_error_object(client: PlexeClient, platform: FakePlatform) -> None:
    platform.respond(
        "GET",
        STATUS_PATH,
        json={"status": "error", "error": {"code": "oom", "message": "out of memory"}},
    )

    status = await client.get_status("churn", "1")

    assert status.error == "out of memory"


async def test_status_metrics_mapping(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "GET", STATUS_PATH, json={"status": "ready", "metrics": {"rmse": 1.5}}
    )

    status = await client.get_status("churn", "1")

    assert status.metric_name == "rmse"
    assert status.metric_value == 1.5


async def test_status_model_id_only(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "GET", STATUS_PATH, json={"model_id": "churn:1", "status": "complete"}
    )

    status = await client.get_status("churn", "1")

    assert status.model_name == "churn"
    assert status.model_version == "1"
    assert status.status == "completed"


@pytest.mark.parametrize(
    ("word", "canonical", "terminal"),
    [
        ("pending", "pending", False),
        ("PENDING", "pending", False),
        ("queued", "pending", False),
        ("DRAFT", "pending", False),
        ("draft", "pending", False),
        ("building", "building", False),
        ("processing", "building", False),
        ("BUILDING", "building", False),
        ("running", "building", False),
        ("RUNNING", "building", False),
        ("completed", "completed", True),
        ("COMPLETED", "completed", True),
        ("ready", "completed", True),
        ("READY", "completed", True),
        ("complete", "completed", True),
        ("failed", "failed", True),
        ("FAILED", "failed", True),
        ("error", "failed", True),
        ("ERROR", "failed", True),
        ("cancelled", "cancelled", True),
        ("CANCELLED", "cancelled", True),
    ],
)
async def test_status_word_mapping(
    client: PlexeClient,
    platform: FakePlatform,
    word: str,
    canonical: str,
    terminal: bool,
) -> None:
    platform.respond("GET", STATUS_PATH, json={"status": word})

    status = await client.get_status("churn", "1")

    assert status.status == canonical
    assert is_terminal(status.status) is terminal


@pytest.mark.parametrize(
    "word", ["paused_awaiting_feedback", "WAITING_FOR_GPU", "[stalled]"]
)
async def test_status_unknown_word(
    client: PlexeClient, platform: FakePlatform, word: str
) -> None:
    platform.respond("GET", STATUS_PATH, json={"status": word})

    status = await client.get_status("churn", "1")

    assert status.status == word
    assert not is_terminal(status.status)


async def test_status_missing_word(client: PlexeClient, platform: FakePlatform) -> None:
    platform.respond("GET", STATUS_PATH, json={"build_progress": 10})

    status = await client.get_status("churn", "1")

    assert status.status == ""
    assert not is_terminal(status.status)


async def test_status_unknown_model(client: PlexeClient) -> None:
    with pytest.raises(NotFoundError, match="churn:9"):
        await client.get_status("churn", "9")


# Model lists


async def test_list_bare_array(client: PlexeClient, platform: FakePlatform) -> None:
    platform.respond(
        "GET",
        "/models",
        json=[
            {"model_id": "churn:2", "status": "READY", "intent": "predict churn"},
            {"model_name": "price", "model_version": "1", "status": "processing"},
        ],
    )

    page = await client.list_models()

    assert [(m.model_name, m.model_version) for m in page.items] == [
        ("churn", "2"),
        ("price", "1"),
    ]
    assert [m.status for m in page.items] == ["completed", "building"]
    assert page.items[0].goal == "predict churn"
    assert page.total is None
    assert page.has_more is False


async def test_list_paginated_object(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "GET",
        "/models",
        json={
            "models": [
                {
                    "model_id": "churn:1",
                    "status": "completed",
                    "goal": "predict churn",
                    "metric_name": "accuracy",
                    "metric_value": 0.93,
                    "created_at": "2025-01-01T00:00:00Z",
                }
            ],
            "pagination": {"total": 250, "limit": 100, "offset": 0, "has_more": True},
        },
    )

    page = await client.list_models()

    assert len(page.items) == 1
    assert page.items[0].model_name == "churn"
    assert page.items[0].model_version == "1"
    assert page.items[0].metric_name == "accuracy"
    assert page.items[0].metric_value == 0.93
    assert page.items[0].created_at == "2025-01-01T00:00:00Z"
    assert page.total == 250
    assert page.has_more is True


async def test_list_skips_unnamed_items(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "GET",
        "/models",
        json=[{"status": "ready"}, "churn:1", {"model_id": "churn:1"}],
    )

    page = await client.list_models()

    assert [m.model_version for m in page.items] == ["1"]


async def test_list_default_flow(client: PlexeClient) -> None:
    await client.start_build("churn", BuildRequest(goal="predict churn"))
    await client.start_build("price", BuildRequest(goal="predict price"))

    page = await client.list_models()

    assert [m.model_name for m in page.items] == ["price", "churn"]
    assert page.items[1].goal == "predict churn"
    assert page.total == 2


async def test_list_query_parameters(
    client: PlexeClient, platform: FakePlatform
) -> None:
    await client.list_models(limit=500, offset=200, status="completed")

    sent = platform.requests_to("GET", "/models")[0]
    assert sent.query == {"limit": "100", "offset": "200", "status": "completed"}


async def test_list_unreadable_shape(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond("GET", "/models", json={"items": []})

    with pytest.raises(ProtocolError, match="list of models"):
        await client.list_models()


# Inference


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(
            {"churned": True, "probability": 0.8},
            {"churned": True, "probability": 0.8},
            id="raw-object",
        ),
        pytest.param(
            {"prediction": {"churned": True}},
            {"churned": True},
            id="prediction",
        ),
        pytest.param(
            {"result": {"churned": False}, "request_id": "req-7"},
            {"churned": False},
            id="result",
        ),
        pytest.param(
            {"result": {"a": 1}, "prediction": {"b": 2}},
            {"a": 1},
            id="result-before-prediction",
        ),
    ],
)
async def test_infer_answer_variants(
    client: PlexeClient,
    platform: FakePlatform,
    answer: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    platform.respond("POST", "/models/churn/1/infer", json=answer)

    output = await client.infer("churn", "1", {"age": 40})

    assert output == expected


async def test_infer_sends_inputs(client: PlexeClient, platform: FakePlatform) -> None:
    platform.set_build("churn", "1", status="completed", output={"churned": True})

    output = await client.infer("churn", "1", {"age": 40, "city": "Zürich"})

    sent = platform.requests_to("POST", "/models/churn/1/infer")[0]
    assert output == {"churned": True}
    assert sent.json() == {"age": 40, "city": "Zürich"}
    assert sent.headers["x-api-key"] == FAKE_API_KEY


async def test_infer_unfinished_build(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.set_build("churn", "1", status="building")

    with pytest.raises(ConflictError, match="completed") as caught:
        await client.infer("churn", "1", {"age": 40})

    assert caught.value.status_code == 409


# Batch predictions and deleting: extensions the client feature-detects


async def test_predict_batch_reads_outputs(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "POST",
        "/models/churn/1/predictions",
        json=[{"churned": True}, {"result": {"churned": False}}],
    )

    outputs = await client.predict_batch("churn", "1", [{"age": 40}, {"age": 7}])

    sent = platform.requests_to("POST", "/models/churn/1/predictions")[0]
    assert outputs == [{"churned": True}, {"churned": False}]
    assert sent.json() == [{"age": 40}, {"age": 7}]


async def test_predict_batch_wrong_count(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond("POST", "/models/churn/1/predictions", json=[{"churned": True}])

    with pytest.raises(ProtocolError, match="1 predictions for 2 rows"):
        await client.predict_batch("churn", "1", [{"age": 40}, {"age": 7}])


async def test_predict_batch_missing_route(
    client: PlexeClient, platform: FakePlatform
) -> None:
    """The fake platform, like the hosted one may, has no batch route."""
    platform.set_build("churn", "1", status="completed")

    with pytest.raises(NotFoundError) as caught:
        await client.predict_batch("churn", "1", [{"age": 40}])

    assert caught.value.status_code == 404


async def test_delete_model_sends_delete(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond(
        "DELETE",
        "/models/churn/1",
        json={"model_name": "churn", "model_version": "1", "deleted": True},
    )

    answer = await client.delete_model("churn", "1")

    assert answer["deleted"] is True
    assert (
        platform.requests_to("DELETE", "/models/churn/1")[0].headers["x-api-key"]
        == FAKE_API_KEY
    )


async def test_delete_model_not_allowed(
    client: PlexeClient, platform: FakePlatform
) -> None:
    platform.respond("DELETE", "/models/churn/1", status=405, json={"detail": "x"})

    with pytest.raises(ApiError) as caught:
        await client.delete_model("churn", "1")

    assert caught.value.status_code == 405


# Other reads


async def test_health_needs_no_key(platform: FakePlatform) -> None:
    client = PlexeClient(platform.url)
    try:
        answer = await client.health()
    finally:
        await client.aclose()

    assert answer == {"status": "ok"}
    assert "x-api-key" not in platform.requests_to("GET", "/health")[0].headers


async def test_get_model_record(client: PlexeClient, platform: FakePlatform) -> None:
    platform.set_build("churn", "1", status="completed", goal="predict churn")

    record = await client.get_model("churn", "1")

    assert record["goal"] == "predict churn"
    assert record["status"] == "completed"


async def test_describe_model(client: PlexeClient, platform: FakePlatform) -> None:
    platform.set_build("churn", "1", goal="predict churn")

    description = await client.describe("churn", "1")

    assert "predict churn" in description["description"]


async def test_user_agent_header(client: PlexeClient, platform: FakePlatform) -> None:
    await client.list_models()

    sent = platform.requests_to("GET", "/models")[0]
    assert sent.headers["user-agent"].startswith("plexe-tui/")


# Redirects: never followed, so the key never reaches another host


@pytest.fixture(scope="module")
def other_server() -> Iterator[FakePlatform]:
    with FakePlatform(api_key=None) as other:
        yield other


@pytest.fixture
def other_host(other_server: FakePlatform) -> FakePlatform:
    """A second fake platform that stands for another host, with no requests yet."""
    other_server.reset()
    return other_server


@pytest.mark.parametrize("code", [301, 302, 307, 308])
async def test_redirect_not_followed(
    client: PlexeClient, platform: FakePlatform, other_host: FakePlatform, code: int
) -> None:
    platform.respond(
        "GET",
        STATUS_PATH,
        status=code,
        headers={"location": f"{other_host.url}{STATUS_PATH}"},
    )

    with pytest.raises(ProtocolError, match="redirect") as caught:
        await client.get_status("churn", "1")

    assert caught.value.status_code == code
    assert other_host.requests == []


async def test_redirect_on_build_start(
    client: PlexeClient, platform: FakePlatform, other_host: FakePlatform
) -> None:
    platform.respond(
        "POST",
        "/models/churn",
        status=307,
        headers={"location": f"{other_host.url}/models/churn"},
    )

    with pytest.raises(ProtocolError):
        await client.start_build("churn", BuildRequest(goal="g"))

    assert other_host.requests == []

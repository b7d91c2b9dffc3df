"""Fixtures that run the engine over loopback for the engine tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_harness import EngineProcess, data_file


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """An engine shared by the tests that do not restart it."""
    folder = tmp_path_factory.mktemp("engine")
    server = EngineProcess(folder / "data", folder / "engine.log")
    server.start()
    yield server
    server.close()


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[EngineProcess]:
    """An engine of its own, for tests that stop and restart it."""
    server = EngineProcess(tmp_path / "data", tmp_path / "engine.log")
    yield server
    server.close()


@pytest.fixture(scope="session")
def cancer_upload(engine: EngineProcess) -> str:
    """The breast cancer CSV, uploaded to the shared engine."""
    return engine.upload(data_file("breast_cancer.csv"))


@pytest.fixture(scope="session")
def cancer_model(engine: EngineProcess, cancer_upload: str) -> tuple[str, str]:
    """A completed breast cancer classifier on the shared engine: (name, version)."""
    version = engine.start_build(
        "cancer",
        goal="predict the diagnosis",
        upload_id=cancer_upload,
        max_iterations=2,
    )
    status = engine.wait_for("cancer", version)
    assert status["status"] == "completed", status
    return "cancer", version

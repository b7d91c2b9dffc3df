"""DraftStore with real files: round trips, separate keys and unreadable files."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest

from plexe_tui.store.drafts import FORMAT_VERSION, NEW_BUILD, DraftStore

RESUBMIT_KEY = "churn:1@http://127.0.0.1:8765"


@pytest.fixture
def drafts_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "drafts.toml"


@pytest.fixture
def store(drafts_path: Path) -> DraftStore:
    return DraftStore(drafts_path)


def form(**values: str) -> dict[str, str]:
    """Return a draft with every field of the form, empty unless given."""
    fields = dict.fromkeys(
        (
            "model_name",
            "goal",
            "dataset",
            "input_schema",
            "output_schema",
            "metric",
            "max_iterations",
            "provider",
        ),
        "",
    )
    fields.update(values)
    return fields


def test_drafts_round_trip(store: DraftStore) -> None:
    draft = form(
        model_name="churn",
        goal='Predict "churn"\nfor [Zürich] customers ✓',
        input_schema='{"age": "int"}',
        max_iterations="5",
    )
    store.save(NEW_BUILD, draft)

    assert store.load(NEW_BUILD) == draft


def test_drafts_missing_file(store: DraftStore, drafts_path: Path) -> None:
    assert store.load(NEW_BUILD) is None
    assert not drafts_path.exists()


def test_drafts_keys_kept_apart(store: DraftStore) -> None:
    store.save(NEW_BUILD, form(goal="new build"))
    store.save(RESUBMIT_KEY, form(goal="resubmit"))

    assert (store.load(NEW_BUILD) or {})["goal"] == "new build"
    assert (store.load(RESUBMIT_KEY) or {})["goal"] == "resubmit"


def test_drafts_save_replaces(store: DraftStore) -> None:
    store.save(NEW_BUILD, form(goal="first"))
    store.save(NEW_BUILD, form(goal="second"))

    assert (store.load(NEW_BUILD) or {})["goal"] == "second"


def test_drafts_clear_one_key(store: DraftStore) -> None:
    store.save(NEW_BUILD, form(goal="new build"))
    store.save(RESUBMIT_KEY, form(goal="resubmit"))
    store.clear(NEW_BUILD)

    assert store.load(NEW_BUILD) is None
    assert store.load(RESUBMIT_KEY) is not None


def test_drafts_clear_unknown_key(store: DraftStore, drafts_path: Path) -> None:
    store.clear(NEW_BUILD)

    assert not drafts_path.exists()


def test_drafts_file_layout(store: DraftStore, drafts_path: Path) -> None:
    store.save(RESUBMIT_KEY, form(goal="resubmit"))
    document = tomllib.loads(drafts_path.read_text(encoding="utf-8"))

    assert document["version"] == FORMAT_VERSION
    assert document["drafts"][RESUBMIT_KEY]["goal"] == "resubmit"


def test_drafts_corrupt_file_ignored(
    store: DraftStore, drafts_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drafts_path.parent.mkdir(parents=True)
    drafts_path.write_text('version = 1\n[drafts.new\ngoal = "x', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        loaded = store.load(NEW_BUILD)

    assert loaded is None
    assert "Ignored unreadable" in caplog.text


def test_drafts_save_over_corrupt(store: DraftStore, drafts_path: Path) -> None:
    drafts_path.parent.mkdir(parents=True)
    drafts_path.write_bytes(b"\xff\xfe not toml")
    store.save(NEW_BUILD, form(goal="after"))

    assert (store.load(NEW_BUILD) or {})["goal"] == "after"


def test_drafts_other_version_ignored(
    store: DraftStore, drafts_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drafts_path.parent.mkdir(parents=True)
    drafts_path.write_text(
        'version = 2\n[drafts.new]\ngoal = "from a newer app"\n', encoding="utf-8"
    )
    with caplog.at_level(logging.WARNING):
        loaded = store.load(NEW_BUILD)

    assert loaded is None
    assert "format version 2" in caplog.text


@pytest.mark.parametrize(
    "content",
    [
        'version = 1\ndrafts = "text"\n',
        'version = 1\n[drafts]\nnew = "text"\n',
    ],
)
def test_drafts_wrong_shape_ignored(
    store: DraftStore, drafts_path: Path, content: str
) -> None:
    drafts_path.parent.mkdir(parents=True)
    drafts_path.write_text(content, encoding="utf-8")

    assert store.load(NEW_BUILD) is None


def test_drafts_values_read_as_text(store: DraftStore, drafts_path: Path) -> None:
    drafts_path.parent.mkdir(parents=True)
    drafts_path.write_text(
        "version = 1\n[drafts.new]\nmax_iterations = 5\n", encoding="utf-8"
    )

    assert store.load(NEW_BUILD) == {"max_iterations": "5"}

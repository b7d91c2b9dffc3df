"""UploadCache with real files: lookups by server and file, the bound, bad files."""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path

import pytest

from plexe_tui.store.toml_file import write_versioned
from plexe_tui.store.uploads import FORMAT_VERSION, MAX_ENTRIES, UploadCache

SERVER = "http://127.0.0.1:8765"
OTHER_SERVER = "http://127.0.0.1:8766"


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "uploads.toml"


@pytest.fixture
def cache(cache_path: Path) -> UploadCache:
    return UploadCache(cache_path)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "churn.csv"
    path.parent.mkdir()
    path.write_text("plan,churned\nbasic,no\n", encoding="utf-8")
    return path


def record(index: int, path: Path) -> dict[str, object]:
    """Return one uploads.toml entry for a made-up file."""
    return {
        "server": SERVER,
        "path": str(path),
        "size": index,
        "mtime_ns": index,
        "upload_id": f"upl-{index}",
    }


def stored_ids(cache_path: Path) -> list[str]:
    """Return the upload ids in the file, oldest first."""
    document = tomllib.loads(cache_path.read_text(encoding="utf-8"))
    return [entry["upload_id"] for entry in document["uploads"]]


def test_uploads_remember_and_find(cache: UploadCache, data_file: Path) -> None:
    cache.remember(SERVER, data_file, "upl-1")

    assert cache.find(SERVER, data_file) == "upl-1"


def test_uploads_find_by_resolved_path(
    cache: UploadCache, data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.remember(SERVER, data_file, "upl-1")
    monkeypatch.chdir(data_file.parent)

    assert cache.find(SERVER, Path("churn.csv")) == "upl-1"


def test_uploads_other_server(cache: UploadCache, data_file: Path) -> None:
    cache.remember(SERVER, data_file, "upl-1")

    assert cache.find(OTHER_SERVER, data_file) is None


def test_uploads_changed_size(cache: UploadCache, data_file: Path) -> None:
    cache.remember(SERVER, data_file, "upl-1")
    with data_file.open("a", encoding="utf-8") as handle:
        handle.write("pro,yes\n")

    assert cache.find(SERVER, data_file) is None


def test_uploads_changed_mtime(cache: UploadCache, data_file: Path) -> None:
    cache.remember(SERVER, data_file, "upl-1")
    stat = data_file.stat()
    os.utime(data_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    assert cache.find(SERVER, data_file) is None


def test_uploads_missing_file(cache: UploadCache, data_file: Path) -> None:
    cache.remember(SERVER, data_file, "upl-1")
    data_file.unlink()

    assert cache.find(SERVER, data_file) is None


def test_uploads_remember_replaces(
    cache: UploadCache, cache_path: Path, data_file: Path
) -> None:
    cache.remember(SERVER, data_file, "upl-1")
    cache.remember(SERVER, data_file, "upl-2")

    assert cache.find(SERVER, data_file) == "upl-2"
    assert stored_ids(cache_path) == ["upl-2"]


def test_uploads_servers_kept_apart(cache: UploadCache, data_file: Path) -> None:
    cache.remember(SERVER, data_file, "upl-1")
    cache.remember(OTHER_SERVER, data_file, "upl-9")

    assert cache.find(SERVER, data_file) == "upl-1"
    assert cache.find(OTHER_SERVER, data_file) == "upl-9"


def test_uploads_forget(cache: UploadCache, data_file: Path) -> None:
    cache.remember(SERVER, data_file, "upl-1")
    cache.remember(OTHER_SERVER, data_file, "upl-1")
    cache.forget(SERVER, "upl-1")

    assert cache.find(SERVER, data_file) is None
    assert cache.find(OTHER_SERVER, data_file) == "upl-1"


def test_uploads_forget_unknown(cache: UploadCache, cache_path: Path) -> None:
    cache.forget(SERVER, "upl-1")

    assert not cache_path.exists()


def test_uploads_bounded(
    cache: UploadCache, cache_path: Path, data_file: Path, tmp_path: Path
) -> None:
    old = [record(index, tmp_path / f"old-{index}.csv") for index in range(MAX_ENTRIES)]
    write_versioned(cache_path, FORMAT_VERSION, {"uploads": old})
    cache.remember(SERVER, data_file, "upl-new")
    ids = stored_ids(cache_path)

    assert len(ids) == MAX_ENTRIES
    assert "upl-0" not in ids
    assert ids[0] == "upl-1"
    assert ids[-1] == "upl-new"


def test_uploads_corrupt_file_ignored(
    cache: UploadCache,
    cache_path: Path,
    data_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache_path.parent.mkdir(parents=True)
    cache_path.write_text("version = 1\n[[uploads]\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        found = cache.find(SERVER, data_file)

    assert found is None
    assert "Ignored unreadable" in caplog.text


def test_uploads_remember_over_corrupt(
    cache: UploadCache, cache_path: Path, data_file: Path
) -> None:
    cache_path.parent.mkdir(parents=True)
    cache_path.write_bytes(b"\x00\x01 not toml")
    cache.remember(SERVER, data_file, "upl-1")

    assert cache.find(SERVER, data_file) == "upl-1"


def test_uploads_other_version_ignored(
    cache: UploadCache, cache_path: Path, data_file: Path
) -> None:
    cache.remember(SERVER, data_file, "upl-1")
    text = cache_path.read_text(encoding="utf-8")
    cache_path.write_text(text.replace("version = 1", "version = 2"), encoding="utf-8")

    assert cache.find(SERVER, data_file) is None


def test_uploads_damaged_entry_skipped(
    cache: UploadCache, cache_path: Path, data_file: Path
) -> None:
    cache.remember(SERVER, data_file, "upl-1")
    document = tomllib.loads(cache_path.read_text(encoding="utf-8"))
    damaged = {"server": SERVER, "path": "/x.csv", "size": "many", "upload_id": "u"}
    write_versioned(
        cache_path, FORMAT_VERSION, {"uploads": [damaged, *document["uploads"]]}
    )

    assert cache.find(SERVER, data_file) == "upl-1"

"""config.toml with real files: defaults, round trips, modes and bad files."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from plexe_tui.store.config import (
    HOSTED_BASE_URL,
    TEMPLATE,
    ConfigError,
    Notifications,
    Profile,
    Settings,
    choose_server,
    load_config,
    save_setting,
    write_default_config,
)
from plexe_tui.store.jobs import DEFAULT_MAX_JOBS

KEY_IN_FILE = "file-key-5f0c8e2a9d"
KEY_IN_ENV = "env-key-77b1c04e3a"


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "config.toml"


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def aside_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# Defaults


def test_missing_file_gives_defaults(config_path: Path) -> None:
    loaded = load_config(config_path)

    assert loaded.settings == Settings()
    assert loaded.warnings == []
    assert not config_path.exists()


def test_defaults_local_and_hosted() -> None:
    settings = Settings()

    assert settings.profiles["local"].is_local
    assert settings.profiles["hosted"].base_url == HOSTED_BASE_URL
    assert settings.profiles["hosted"].api_key_env == "PLEXE_API_KEY"
    assert settings.profiles["hosted"].api_key is None
    assert settings.default_profile is None
    assert settings.poll_interval is None
    assert settings.max_jobs == DEFAULT_MAX_JOBS
    assert settings.notifications == Notifications(toast=True, bell=True)
    assert settings.theme == "dark"
    assert settings.keys == {}


def test_template_reads_as_defaults(config_path: Path) -> None:
    assert write_default_config(config_path)

    loaded = load_config(config_path)

    assert loaded.settings == Settings()
    assert loaded.warnings == []


def test_template_written_once(config_path: Path) -> None:
    write(config_path, 'theme = "light"\n')

    assert not write_default_config(config_path)
    assert load_config(config_path).settings.theme == "light"


# Round trip


def test_every_field_read(config_path: Path) -> None:
    write(
        config_path,
        f"""
version = 1
default_profile = "staging"
poll_interval = 5
max_jobs = 250
theme = "nord"

[notifications]
toast = false
bell = true

[keys]
refresh = "f5"
new = "ctrl+n,n"

[profiles.staging]
base_url = "http://127.0.0.1:9000/"
api_key_env = "STAGING_KEY"
api_key = "{KEY_IN_FILE}"
""",
    )

    loaded = load_config(config_path)

    assert loaded.warnings == []
    settings = loaded.settings
    assert settings.default_profile == "staging"
    assert settings.poll_interval == 5.0
    assert settings.max_jobs == 250
    assert settings.theme == "nord"
    assert settings.notifications == Notifications(toast=False, bell=True)
    assert settings.keys == {"refresh": "f5", "new": "ctrl+n,n"}
    assert settings.profiles["staging"] == Profile(
        "staging", "http://127.0.0.1:9000", "STAGING_KEY", KEY_IN_FILE
    )
    assert set(settings.profiles) == {"local", "hosted", "staging"}


def test_save_setting_keeps_comments(config_path: Path) -> None:
    write_default_config(config_path)

    save_setting(config_path, "theme", "light")

    text = config_path.read_text(encoding="utf-8")
    assert 'theme = "light"' in text
    assert "# Key remaps: binding id = key." in text
    assert load_config(config_path).settings.theme == "light"


def test_save_setting_keeps_hand_edits(config_path: Path) -> None:
    write(
        config_path,
        "# my servers\n"
        "version = 1\n"
        "[profiles.mine]  # at work\n"
        'base_url = "http://127.0.0.1:9000"\n',
    )

    save_setting(config_path, "theme", "light")

    text = config_path.read_text(encoding="utf-8")
    assert text.startswith("# my servers\n")
    assert "[profiles.mine]  # at work" in text
    document = tomllib.loads(text)
    assert document["theme"] == "light"
    assert document["profiles"]["mine"]["base_url"] == "http://127.0.0.1:9000"


def test_save_setting_missing_file(config_path: Path) -> None:
    save_setting(config_path, "theme", "light")

    loaded = load_config(config_path)
    assert loaded.settings.theme == "light"
    assert loaded.warnings == []


def test_save_setting_unparsable_file(config_path: Path) -> None:
    write(config_path, "theme = [unclosed\n")

    save_setting(config_path, "theme", "light")

    assert load_config(config_path).settings.theme == "light"


# Mode 0600


def test_created_with_mode_600(config_path: Path) -> None:
    write_default_config(config_path)

    assert file_mode(config_path) == 0o600


def test_save_setting_mode_600(config_path: Path) -> None:
    save_setting(config_path, "theme", "light")

    assert file_mode(config_path) == 0o600


def test_save_setting_tightens_mode(config_path: Path) -> None:
    write(config_path, 'theme = "dark"\n', mode=0o644)

    save_setting(config_path, "theme", "light")

    assert file_mode(config_path) == 0o600


def test_no_temporary_files_left(config_path: Path) -> None:
    write_default_config(config_path)
    save_setting(config_path, "theme", "light")

    assert [path.name for path in config_path.parent.iterdir()] == ["config.toml"]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_readable_by_others_warns(config_path: Path, mode: int) -> None:
    write(config_path, 'theme = "dark"\n', mode=mode)

    loaded = load_config(config_path)

    assert len(loaded.warnings) == 1
    assert f"chmod 600 {config_path}" in loaded.warnings[0]
    assert f"{mode:04o}" in loaded.warnings[0]


def test_private_file_no_warning(config_path: Path) -> None:
    write(config_path, 'theme = "dark"\n', mode=0o600)

    assert load_config(config_path).warnings == []


# Unreadable files


def test_corrupt_toml_moved_aside(config_path: Path) -> None:
    write(config_path, "theme = [unclosed\n")

    loaded = load_config(config_path)

    assert loaded.settings == Settings()
    assert len(loaded.warnings) == 1
    assert "moved to config.toml.corrupt-" in loaded.warnings[0]
    assert not config_path.exists()
    [aside] = aside_files(config_path)
    assert aside.read_text(encoding="utf-8") == "theme = [unclosed\n"


def test_invalid_utf8_moved_aside(config_path: Path) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_bytes(b'theme = "\xff"\n')

    loaded = load_config(config_path)

    assert loaded.settings == Settings()
    assert len(aside_files(config_path)) == 1


def test_other_version_moved_aside(config_path: Path) -> None:
    write(config_path, 'version = 2\ntheme = "light"\n')

    loaded = load_config(config_path)

    assert loaded.settings == Settings()
    assert "format version is 2" in loaded.warnings[0]
    assert len(aside_files(config_path)) == 1


@pytest.mark.parametrize("text", ["theme = [unclosed\n", "version = 2\n"])
def test_read_only_leaves_unreadable_file(config_path: Path, text: str) -> None:
    write(config_path, text)

    loaded = load_config(config_path, read_only=True)

    assert loaded.settings == Settings()
    assert loaded.unreadable
    assert "left as it is" in loaded.warnings[0]
    assert config_path.read_text(encoding="utf-8") == text
    assert aside_files(config_path) == []


def test_missing_version_read_as_current(config_path: Path) -> None:
    write(config_path, 'theme = "light"\n')

    loaded = load_config(config_path)

    assert loaded.settings.theme == "light"
    assert loaded.warnings == []


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("poll_interval = 'fast'", "poll_interval"),
        ("poll_interval = 0.1", "poll_interval"),
        ("poll_interval = 7200", "poll_interval"),
        ("poll_interval = true", "poll_interval"),
        ("max_jobs = 0", "max_jobs"),
        ("max_jobs = 10001", "max_jobs"),
        ("max_jobs = 50.5", "max_jobs"),
        ("max_jobs = '50'", "max_jobs"),
        ("max_jobs = true", "max_jobs"),
        ("theme = 3", "theme"),
        ("theme = ''", "theme"),
        ("default_profile = 'nowhere'", "default_profile"),
        ("default_profile = 1", "default_profile"),
        ("notifications = 'loud'", "notifications"),
        ("notifications.toast = 'yes'", "notifications.toast"),
        ("keys = 'f5'", "keys"),
        ("keys.refresh = 5", "keys.refresh"),
        ("profiles = 'hosted'", "profiles"),
        ("profiles.work = 'http://127.0.0.1:1'", "profiles.work"),
        ("profiles.work.base_url = 'ftp://127.0.0.1'", "profiles.work.base_url"),
        ("profiles.work.base_url = 8080", "profiles.work.base_url"),
        ("colour = 'blue'", "colour"),
    ],
)
def test_wrong_field_ignored(config_path: Path, text: str, named: str) -> None:
    write(config_path, f"version = 1\n{text}\n")

    loaded = load_config(config_path)

    assert len(loaded.warnings) == 1, loaded.warnings
    assert named in loaded.warnings[0]
    assert loaded.settings.profiles.keys() >= {"local", "hosted"}
    assert config_path.exists()
    assert aside_files(config_path) == []


def test_wrong_max_jobs_keeps_default(config_path: Path) -> None:
    write(config_path, "max_jobs = 0\n")

    loaded = load_config(config_path)

    assert loaded.settings.max_jobs == DEFAULT_MAX_JOBS
    assert "from 1 to 10000" in loaded.warnings[0]


def test_wrong_field_keeps_others(config_path: Path) -> None:
    write(config_path, "poll_interval = 'fast'\ntheme = 'light'\n")

    loaded = load_config(config_path)

    assert loaded.settings.poll_interval is None
    assert loaded.settings.theme == "light"


def test_wrong_key_type_not_shown(config_path: Path) -> None:
    write(config_path, "[profiles.work]\nbase_url = 'local'\napi_key = 123456789\n")

    loaded = load_config(config_path)

    assert loaded.settings.profiles["work"].api_key is None
    assert len(loaded.warnings) == 1
    assert "123456789" not in loaded.warnings[0]


def test_bad_key_variable_uses_default(config_path: Path) -> None:
    write(
        config_path,
        "[profiles.work]\nbase_url = 'http://127.0.0.1:1'\napi_key_env = 3\n",
    )

    loaded = load_config(config_path)

    assert loaded.settings.profiles["work"].api_key_env == "PLEXE_API_KEY"
    assert "api_key_env" in loaded.warnings[0]


def test_key_not_in_repr() -> None:
    profile = Profile("work", "http://127.0.0.1:1", api_key=KEY_IN_FILE)

    assert KEY_IN_FILE not in repr(profile)
    assert KEY_IN_FILE not in repr(Settings(profiles={"work": profile}))


# Choosing the server


def test_choose_local_without_key() -> None:
    choice = choose_server(Settings(), None, None, {})

    assert choice.profile == "local"
    assert choice.base_url is None
    assert choice.api_key is None


def test_choose_hosted_when_key_set() -> None:
    choice = choose_server(Settings(), None, None, {"PLEXE_API_KEY": KEY_IN_ENV})

    assert choice.profile == "hosted"
    assert choice.base_url == HOSTED_BASE_URL
    assert choice.api_key == KEY_IN_ENV
    assert choice.key_source == "$PLEXE_API_KEY"


def test_choose_default_profile() -> None:
    settings = Settings(default_profile="local")

    choice = choose_server(settings, None, None, {"PLEXE_API_KEY": KEY_IN_ENV})

    assert choice.profile == "local"
    assert choice.base_url is None


def test_choose_named_profile() -> None:
    profile = Profile("work", "http://127.0.0.1:9000", "WORK_KEY", KEY_IN_FILE)
    settings = Settings(profiles={"work": profile})

    choice = choose_server(settings, "work", None, {})

    assert choice.base_url == "http://127.0.0.1:9000"
    assert choice.api_key == KEY_IN_FILE
    assert choice.key_source == "api_key of [profiles.work]"


def test_environment_key_wins_over_file() -> None:
    profile = Profile("work", "http://127.0.0.1:9000", api_key=KEY_IN_FILE)
    settings = Settings(profiles={"work": profile})

    choice = choose_server(settings, "work", None, {"PLEXE_API_KEY": KEY_IN_ENV})

    assert choice.api_key == KEY_IN_ENV


def test_other_variable_not_plexe_key() -> None:
    profile = Profile("work", "http://127.0.0.1:9000", "WORK_KEY")
    settings = Settings(profiles={"work": profile})

    choice = choose_server(settings, "work", None, {"PLEXE_API_KEY": KEY_IN_ENV})

    assert choice.api_key is None


def test_base_url_wins_over_profile() -> None:
    environ = {"PLEXE_API_KEY": KEY_IN_ENV}

    choice = choose_server(Settings(), "hosted", "http://127.0.0.1:9000", environ)

    assert choice.base_url == "http://127.0.0.1:9000"
    assert choice.api_key == KEY_IN_ENV


def test_base_url_without_key_as_before() -> None:
    choice = choose_server(Settings(), None, "http://127.0.0.1:9000", {})

    assert choice.base_url == "http://127.0.0.1:9000"
    assert choice.api_key is None


def test_unknown_profile_names_known() -> None:
    with pytest.raises(ConfigError) as caught:
        choose_server(Settings(), "nowhere", None, {})

    assert "'nowhere'" in str(caught.value)
    assert "hosted, local" in str(caught.value)


def test_api_keys_lists_every_source() -> None:
    work = Profile("work", "http://127.0.0.1:9000", "WORK_KEY", KEY_IN_FILE)
    settings = Settings(profiles={**Settings().profiles, "work": work})

    keys = settings.api_keys({"PLEXE_API_KEY": KEY_IN_ENV, "WORK_KEY": "w" * 12})

    assert keys == sorted([KEY_IN_ENV, KEY_IN_FILE, "w" * 12])


def test_api_key_for_server() -> None:
    work = Profile("work", "http://127.0.0.1:9000", api_key=KEY_IN_FILE)
    settings = Settings(profiles={**Settings().profiles, "work": work})

    assert settings.api_key_for_server("http://127.0.0.1:9000", {}) == KEY_IN_FILE
    assert settings.api_key_for_server("http://127.0.0.1:1", {}) is None


def test_template_has_every_setting() -> None:
    document = tomllib.loads(TEMPLATE)

    assert document["version"] == 1
    assert set(document) == {"version", "theme", "notifications", "keys", "profiles"}
    for name in ("default_profile", "poll_interval", "max_jobs", "api_key"):
        assert f"# {name} = " in TEMPLATE


def test_save_setting_adds_missing_line(config_path: Path) -> None:
    write(config_path, 'version = 1\n\n[keys]\nrefresh = "f5"\n')

    save_setting(config_path, "theme", "light")

    text = config_path.read_text(encoding="utf-8")
    assert text == 'version = 1\n\ntheme = "light"\n\n[keys]\nrefresh = "f5"\n'


def test_save_setting_over_multiline_value(config_path: Path) -> None:
    write(config_path, 'version = 1\ntheme = """\ndark"""\n[keys]\nnew = "n"\n')

    save_setting(config_path, "theme", "light")

    document = tomllib.loads(config_path.read_text(encoding="utf-8"))
    assert document["theme"] == "light"
    assert document["keys"] == {"new": "n"}

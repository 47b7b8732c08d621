"""Settings: arguments over UNIONFEED_* variables over config/settings.yaml over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from feed.config.settings import load_settings
from feed.config.sources import ConfigError


def test_environment_and_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings.yaml").write_text("feed_limit: 50\npoliteness:\n  download_delay: 3\n", encoding="utf-8")
    monkeypatch.setenv("UNIONFEED_CONFIG", str(tmp_path / "sources.yaml"))
    monkeypatch.setenv("UNIONFEED_DATA", str(tmp_path / "env-data"))
    monkeypatch.setenv("UNIONFEED_RETRY_TIMES", "5")
    settings = load_settings()
    assert settings.config == tmp_path / "sources.yaml"
    assert settings.data == tmp_path / "env-data"
    assert settings.feed_limit == 50
    assert settings.politeness.download_delay == 3 and settings.politeness.retry_times == 5
    assert "unionfeed/" in settings.politeness.user_agent and "+https://" in settings.politeness.user_agent
    explicit = load_settings(tmp_path / "other.yaml", tmp_path / "arg-data")
    assert explicit.config == tmp_path / "other.yaml" and explicit.data == tmp_path / "arg-data"


def test_unknown_setting_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("feed_limt: 50\n", encoding="utf-8")
    with pytest.raises(ValueError, match="feed_limt"):
        load_settings(tmp_path / "sources.yaml")


@pytest.mark.reliability("config-bad-settings")
@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("feed_limit: 50\nfeed_limt: 20\n", ":2: feed_limt: unknown settings: ['feed_limt']"),
        ("politeness:\n  retry_time: 3\n", ":2: politeness.retry_time: unknown settings"),
        ("feed_limit: '200'\n", ":1: feed_limit: expected a whole number, got '200'"),
        ("feed_limit: 12.5\n", ":1: feed_limit: expected a whole number, got 12.5"),
        ("crawl_time_limit: 0\n", ":1: crawl_time_limit: must be at least 1, got 0"),
        ("politeness:\n  obey_robots: 'không'\n", ":2: politeness.obey_robots: expected true or false"),
        ("politeness:\n  download_delay: -0.5\n", ":2: politeness.download_delay: must be at least 0"),
        ("site_url: file:///etc/\n", ":1: site_url: expected an http(s) URL"),
        ("data:\n", ":1: data: expected a value, got nothing"),
        ("- feed_limit\n", ": expected a mapping of settings (name: value), got list"),
        ("feed_limit: 50\n  politeness: {\n", ":2: not valid YAML: mapping values are not allowed here (line 2)"),
    ],
)
def test_a_broken_settings_file_names_file_line_and_key(tmp_path: Path, text: str, names: str) -> None:
    (tmp_path / "settings.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "sources.yaml")
    assert str(err.value).startswith(f"{tmp_path / 'settings.yaml'}{names}")


def test_values_of_the_right_kind_are_taken_as_their_type(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text(
        "feed_limit: 20.0\npublic_dir: /srv/feeds\nwebsub_hub:\npoliteness:\n  download_delay: 2\n", encoding="utf-8"
    )
    settings = load_settings(tmp_path / "sources.yaml")
    assert settings.feed_limit == 20 and isinstance(settings.feed_limit, int)
    assert settings.public == Path("/srv/feeds") and settings.websub_hub is None
    assert settings.politeness.download_delay == 2.0 and isinstance(settings.politeness.download_delay, float)


@pytest.mark.reliability("config-bad-settings")
def test_a_bad_environment_variable_names_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIONFEED_FEED_LIMIT", "nhiều")
    with pytest.raises(ConfigError, match="variable UNIONFEED_FEED_LIMIT: expected a whole number, got 'nhiều'"):
        load_settings(tmp_path / "sources.yaml")
    monkeypatch.setenv("UNIONFEED_FEED_LIMIT", "0")
    with pytest.raises(ConfigError, match="UNIONFEED_FEED_LIMIT: must be at least 1"):
        load_settings(tmp_path / "sources.yaml")

"""Settings: arguments over UNIONFEED_* variables over config/settings.yaml over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from feed.settings import load_settings


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

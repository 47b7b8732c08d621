"""Run-time settings: where config and data live, how politely to crawl, where to publish.

Rules: every value has a default that works on a fresh machine with no services (SQLite and local files);
`--config`/`--data` on the command line win over the environment (UNIONFEED_*), which wins over
`config/settings.yaml` next to the sources file, which wins over the defaults here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from feed import __version__

ENV_PREFIX = "UNIONFEED_"


@dataclass(frozen=True)
class Politeness:
    contact_url: str = "https://github.com/unionfeed/unionfeed"
    obey_robots: bool = True
    concurrent_per_domain: int = 2
    download_delay: float = 1.0
    autothrottle_start_delay: float = 2.0
    autothrottle_max_delay: float = 60.0
    download_timeout: int = 30
    retry_times: int = 2
    max_page_bytes: int = 10 * 1024 * 1024

    @property
    def user_agent(self) -> str:
        return f"unionfeed/{__version__} (+{self.contact_url})"


@dataclass(frozen=True)
class Settings:
    config: Path = Path("config/sources.yaml")
    data: Path = Path("data")
    database_url: str | None = None
    public_dir: Path | None = None
    site_url: str = "http://localhost:8080/"
    feed_limit: int = 200
    snapshot_retention_days: int = 30
    crawl_time_limit: int = 1800
    websub_hub: str | None = None
    politeness: Politeness = field(default_factory=Politeness)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data / 'unionfeed.sqlite').resolve()}"

    @property
    def public(self) -> Path:
        return self.public_dir or self.data / "public"


def _coerce(value: str, current: Any) -> Any:
    if isinstance(current, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, Path):
        return Path(value)
    return value


def load_settings(config: str | Path | None = None, data: str | Path | None = None) -> Settings:
    """Settings from defaults, config/settings.yaml, the environment, then explicit arguments."""
    base = Settings()
    config_path = Path(config or os.environ.get(f"{ENV_PREFIX}CONFIG") or base.config)
    overrides: dict[str, Any] = {}
    politeness: dict[str, Any] = {}
    settings_file = config_path.parent / "settings.yaml"
    if settings_file.is_file():
        raw = yaml.safe_load(settings_file.read_text(encoding="utf-8")) or {}
        politeness.update(raw.pop("politeness", {}) or {})
        overrides.update(raw)
    for f in fields(Settings):
        env = os.environ.get(f"{ENV_PREFIX}{f.name.upper()}")
        # config is resolved above (argument, then UNIONFEED_CONFIG); politeness has its own variables below.
        if env is not None and f.name not in ("politeness", "config"):
            overrides[f.name] = _coerce(env, getattr(base, f.name) if getattr(base, f.name) is not None else "")
    for f in fields(Politeness):
        env = os.environ.get(f"{ENV_PREFIX}{f.name.upper()}")
        if env is not None:
            politeness[f.name] = _coerce(env, getattr(Politeness(), f.name))
    known = {f.name for f in fields(Settings)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"{settings_file}: unknown settings: {sorted(unknown)}")
    for key in ("data", "public_dir"):
        if key in overrides and overrides[key] is not None:
            overrides[key] = Path(overrides[key])
    settings = replace(base, **overrides, config=config_path, politeness=replace(Politeness(), **politeness))
    if data is not None:
        settings = replace(settings, data=Path(data))
    return settings

"""Run-time settings: where config and data live, how politely to crawl, where to publish.

Rules: every value has a default that works on a fresh machine with no services (SQLite and local files);
`--config`/`--data` on the command line win over the environment (UNIONFEED_*), which wins over
`config/settings.yaml` next to the sources file, which wins over the defaults here. Every value is checked
as it loads (known name, type, range, http(s) for URLs): a mistake is a ConfigError naming the file, line and key,
or the variable, because settings apply to every source and no command should guess.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

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
class AlertsSection:
    """The `alerts:` mapping of settings.yaml as written, with where it was written (file, line of every key), for
    feed.alerts.config to check: alerts are optional and their checks belong to the alerts box."""

    values: dict[str, Any]
    origin: str = "settings"
    lines: dict[str, int] = field(default_factory=dict)


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
    publish_gzip: bool = False  # a .gz beside each feed and snapshot (feed.publish.precompressed), for gzip_static
    # A shared crawl frontier (scrapy-redis) for several workers; None: each crawl keeps its own (docs/operations.md)
    redis_url: str | None = None
    politeness: Politeness = field(default_factory=Politeness)
    # name -> {q, kind, province, source, org}: each published as feeds/query-<name>.* (feed.config.saved_queries)
    saved_queries: dict[str, dict[str, str]] = field(default_factory=dict)
    alerts: AlertsSection | None = field(default=None, compare=False)  # webhooks and e-mail (feed.alerts)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data / 'unionfeed.sqlite').resolve()}"

    @property
    def public(self) -> Path:
        return self.public_dir or self.data / "public"


# Lowest value each number may take; a value below it is a mistake, not a wish (no feed of 0 entries).
MINIMUMS: dict[str, float] = {
    "feed_limit": 1,
    "snapshot_retention_days": 0,
    "crawl_time_limit": 1,
    "concurrent_per_domain": 1,
    "download_delay": 0,
    "autothrottle_start_delay": 0,
    "autothrottle_max_delay": 0,
    "download_timeout": 1,
    "retry_times": 0,
    "max_page_bytes": 1024,
}
URL_SETTINGS = ("site_url", "contact_url", "websub_hub")


def _coerce(value: str, current: Any) -> Any:
    """An environment variable's text as the type of the setting it overrides."""
    if isinstance(current, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    try:
        if isinstance(current, int):
            return int(value)
        if isinstance(current, float):
            return float(value)
    except ValueError:
        raise ValueError(f"expected a {'whole ' if isinstance(current, int) else ''}number, got {value!r}") from None
    if isinstance(current, Path):
        return Path(value)
    return value


def _checked(name: str, value: Any, default: Any) -> Any:
    """value as the type of the setting's default; ValueError saying what was expected."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
    elif isinstance(default, int | float):
        whole = isinstance(default, int)
        if isinstance(value, bool) or not isinstance(value, int | float) or (whole and value != int(value)):
            raise ValueError(f"expected a {'whole ' if whole else ''}number, got {value!r}")
        value = int(value) if whole else float(value)
        if name in MINIMUMS and value < MINIMUMS[name]:
            raise ValueError(f"must be at least {MINIMUMS[name]:g}, got {value!r}")
    elif value is None:
        if default is not None:  # only settings that are off by default may be left empty
            raise ValueError("expected a value, got nothing")
    else:
        value = str(value) if isinstance(value, Path) else value
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"expected text, got {value!r}")
        if name in URL_SETTINGS and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        if name == "redis_url" and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"expected a redis://, rediss:// or unix:// URL, got {value!r}")
        value = Path(value) if isinstance(default, Path) or name == "public_dir" else value
    return value


def _key_lines(root: Any) -> dict[str, int]:
    """The line of every key (nested ones as "politeness.download_delay") in a settings file's node tree.

    The tree comes from compose(), whose alias budget has already bounded its size (an alias bomb never gets here).
    """
    import yaml

    lines: dict[str, int] = {}
    stack = [("", root)]
    while stack:
        prefix, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = f"{prefix}{key.value}"
                lines.setdefault(name, key.start_mark.line + 1)
                stack.append((name + ".", value))
    return lines


def read_settings_file(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings, politeness) written in a settings file, checked; ConfigError naming the file, line and key."""
    import yaml

    from feed.config.sources import ConfigError
    from feed.config.yaml_lines import AliasBudgetError, alias_note, compose, yaml_note

    text = path.read_text(encoding="utf-8")
    try:
        raw, root = compose(text)
    except AliasBudgetError as exc:
        note = alias_note(exc)
        raise ConfigError(f"{path}{f':{note.line}' if note.line else ''}: {note.message}") from None
    except yaml.YAMLError as exc:
        note = yaml_note(exc, 0)
        raise ConfigError(f"{path}{f':{note.line}' if note.line else ''}: {note.message}") from None
    if raw is None:
        return {}, {}
    lines = _key_lines(root)

    def fail(key: str, message: str) -> ConfigError:
        line = lines.get(key)
        return ConfigError(f"{path}{f':{line}' if line else ''}: {key}: {message}")

    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings (name: value), got {type(raw).__name__}")
    raw = dict(raw)
    politeness = raw.pop("politeness", None) or {}
    alerts = raw.pop("alerts", None)  # checked by feed.alerts.config, which knows its shape
    if alerts is not None and not isinstance(alerts, dict):
        raise fail("alerts", f"expected a mapping, got {type(alerts).__name__}")
    if not isinstance(politeness, dict):
        raise fail("politeness", f"expected a mapping, got {type(politeness).__name__}")
    saved = raw.pop("saved_queries", None)
    out: dict[str, dict[str, Any]] = {"": {}, "politeness.": {}}
    for prefix, written, model in (("", raw, Settings()), ("politeness.", politeness, Politeness())):
        known = {f.name for f in fields(model)} - {"politeness", "config", "saved_queries", "alerts"}
        unknown = sorted(str(k) for k in written if k not in known)
        if unknown:
            raise fail(
                prefix + unknown[0],
                f"unknown settings: {[prefix + k for k in unknown]} (known: {', '.join(sorted(known))})",
            )
        for key, value in written.items():
            try:
                out[prefix][key] = _checked(key, value, getattr(model, key))
            except ValueError as exc:
                raise fail(prefix + key, str(exc)) from None
    if saved is not None:  # the saved feeds' own checks (feed.config.saved_queries)
        from feed.config.saved_queries import check_saved_queries

        try:
            out[""]["saved_queries"] = check_saved_queries(saved)
        except ValueError as exc:
            raise fail("saved_queries", str(exc)) from None
    if alerts:
        out[""]["alerts"] = AlertsSection(
            dict(alerts), str(path), {k: v for k, v in lines.items() if k.startswith("alerts")}
        )
    return out[""], out["politeness."]


def _from_environment(model: Any, skip: tuple[str, ...]) -> dict[str, Any]:
    """UNIONFEED_<NAME> variables for the fields of model, checked like the settings file."""
    from feed.config.sources import ConfigError

    found: dict[str, Any] = {}
    for f in fields(model):
        env = os.environ.get(f"{ENV_PREFIX}{f.name.upper()}")
        if env is None or f.name in skip:
            continue
        current = getattr(model, f.name)
        try:
            found[f.name] = _checked(f.name, _coerce(env, current if current is not None else ""), current)
        except ValueError as exc:
            raise ConfigError(f"environment variable {ENV_PREFIX}{f.name.upper()}: {exc}") from None
    return found


def load_settings(config: str | Path | None = None, data: str | Path | None = None) -> Settings:
    """Settings from defaults, config/settings.yaml, the environment, then explicit arguments.

    A mistake in any of them is a ConfigError naming the file (and line) or variable, and the setting: settings
    apply to everything, so no command starts with a value it would have to guess.
    """
    base = Settings()
    config_path = Path(config or os.environ.get(f"{ENV_PREFIX}CONFIG") or base.config)
    settings_file = config_path.parent / "settings.yaml"
    overrides, politeness = read_settings_file(settings_file) if settings_file.is_file() else ({}, {})
    # config is resolved above (argument, then UNIONFEED_CONFIG); politeness has its own variables.
    overrides.update(_from_environment(base, ("politeness", "config", "saved_queries", "alerts")))
    politeness.update(_from_environment(Politeness(), ()))
    settings = replace(base, **overrides, config=config_path, politeness=replace(Politeness(), **politeness))
    if data is not None:
        settings = replace(settings, data=Path(data))
    return settings

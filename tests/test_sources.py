"""The source registry: the shipped config loads, and each kind of mistake is an error naming file, entry, field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from feed.sources import ConfigError, load_profiles, load_sources, parse_sources, select

ROOT = Path(__file__).resolve().parents[1]
GOOD: dict[str, Any] = {
    "slug": "ldld-mau",
    "name": "Liên đoàn Lao động tỉnh Mẫu",
    "kind": "labour_federation",
    "province": "Nam Định",
    "homepage": "https://ldld.example.vn/",
    "discovery": {
        "listings": [{"url": "https://ldld.example.vn/tin-tuc/", "links": ".news h3 a", "next": "a.next"}],
        "article_pattern": r"/tin-tuc/.+\.html$",
    },
}


def write(tmp_path: Path, sources: list[Any], **top: Any) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"version": 1, **top, "sources": sources}, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_config_loads() -> None:
    sources = load_sources(ROOT / "config" / "sources.yaml")
    slugs = {s.slug for s in sources}
    assert len(slugs) == len(sources) >= 8
    for source in sources:
        source.effective_selectors()  # every named profile resolves


def test_demo_config_loads() -> None:
    text = (ROOT / "src" / "feed" / "demo_sites" / "sources.yaml").read_text(encoding="utf-8")
    for slug in ("ldld-demo", "baotinh-demo", "cdnganh-demo"):
        text = text.replace("{" + slug + "}", "http://127.0.0.1:9")
    assert {s.slug for s in parse_sources(yaml.safe_load(text))} == {"ldld-demo", "baotinh-demo", "cdnganh-demo"}


def test_good_entry_with_defaults(tmp_path: Path) -> None:
    (source,) = load_sources(write(tmp_path, [GOOD], defaults={"interval": 30}))
    assert source.interval == 30 and source.enabled
    assert source.listing_rule(source.discovery.listings[0]) == (".news h3 a", "a.next")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"colour": "red"}, "colour", "Extra inputs"),
        ({"homepage": "ftp://ldld.example.vn/"}, "homepage", "http(s)"),
        ({"homepage": "javascript:alert(1)"}, "homepage", "http(s)"),
        ({"interval": "hourly"}, "interval", "integer"),
        ({"interval": 1}, "interval", "greater than or equal"),
        ({"kind": "blog"}, "kind", "labour_federation"),
        ({"slug": "Bad Slug"}, "slug", "lower-case"),
        ({"discovery": {}}, "discovery", "at least one"),
        ({"discovery": {"feeds": ["file:///etc/passwd"]}}, "discovery.feeds", "http(s)"),
        ({"discovery": {"feeds": ["https://a.vn/rss"], "article_pattern": "(["}}, "discovery.article_pattern",
         "regular"),
        ({"discovery": {"listings": [{"url": "https://a.vn/", "links": "a[[["}]}}, "discovery.listings.0.links", "CSS"),
        ({"discovery": {"listings": [{"url": "https://a.vn/", "max_pages": 0}]}}, "discovery.listings.0.max_pages", ""),
        ({"selectors": {"body": ".x", "heading": "h1"}}, "selectors.heading", "Extra inputs"),
        ({"profile": "no_such_cms"}, "profile", "unknown profile"),
        ({"name": ""}, "name", "at least 1"),
    ],
)
def test_each_mistake_names_file_entry_and_field(
    tmp_path: Path, change: dict[str, Any], field: str, words: str
) -> None:
    path = write(tmp_path, [{**GOOD, **change}])
    with pytest.raises(ConfigError) as err:
        load_sources(path)
    message = str(err.value)
    assert str(path) in message
    assert "source #1 (" in message
    assert f"field {field}" in message
    assert words in message


def test_duplicate_slug(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"source #2 \(ldld-mau\): field slug: duplicate of source #1"):
        load_sources(write(tmp_path, [GOOD, GOOD]))


def test_all_errors_reported_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_sources(write(tmp_path, [{**GOOD, "interval": "x"}, {**GOOD, "slug": "b", "kind": "blog"}]))
    assert "source #1" in str(err.value) and "source #2 (b)" in str(err.value)


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources: [\n  - slug: a\n  name", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_sources(tmp_path / "absent.yaml")


def test_entry_that_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"source #1: expected a mapping"):
        load_sources(write(tmp_path, ["just a string"]))


def test_select_unknown_slug(tmp_path: Path) -> None:
    sources = load_sources(write(tmp_path, [GOOD, {**GOOD, "slug": "off", "enabled": False}]))
    assert [s.slug for s in select(sources, [])] == ["ldld-mau"]
    with pytest.raises(ConfigError, match="unknown source slug"):
        select(sources, ["nope"])


def test_profiles_are_valid() -> None:
    for name, profile in load_profiles().items():
        assert profile.selectors.body, f"profile {name} has no body selector"

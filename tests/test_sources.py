"""The source registry: the shipped config loads, and each kind of mistake is an error naming file, entry, field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from feed.config.sources import (
    ConfigError,
    ConfigProblem,
    load_profiles,
    load_sources,
    parse_sources,
    read_sources,
    select,
)

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
    text = (ROOT / "src" / "feed" / "app" / "demo_sites" / "sources.yaml").read_text(encoding="utf-8")
    for slug in ("ldld-demo", "baotinh-demo", "cdnganh-demo"):
        text = text.replace("{" + slug + "}", "http://127.0.0.1:9")
    assert {s.slug for s in parse_sources(yaml.safe_load(text))} == {"ldld-demo", "baotinh-demo", "cdnganh-demo"}


def test_homepage_alone_is_a_source(tmp_path: Path) -> None:
    entry = {k: v for k, v in GOOD.items() if k != "discovery"}
    (source,) = load_sources(write(tmp_path, [entry]))
    assert source.homepage == "https://ldld.example.vn/" and not source.discovery.configured
    (given,) = load_sources(write(tmp_path, [GOOD]))
    assert given.discovery.configured


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
        ({"discovery": {"feeds": ["file:///etc/passwd"]}}, "discovery.feeds", "http(s)"),
        (
            {"discovery": {"feeds": ["https://a.vn/rss"], "article_pattern": "(["}},
            "discovery.article_pattern",
            "regular",
        ),
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


# --- the lenient reading used by commands that do work: a broken entry costs only itself ----------------------


def entry_text(slug: str, **changes: str) -> str:
    """One entry as an operator writes it (block style, two-space list indent), with lines replaced by key."""
    lines = {
        "slug": f"slug: {slug}",
        "name": f"name: 'Liên đoàn Lao động {slug}'",
        "kind": "kind: labour_federation",
        "homepage": f"homepage: https://{slug}.example.vn/",
        "discovery": "discovery:",
        "feeds": f"  feeds: ['https://{slug}.example.vn/rss']",
    }
    lines.update(changes)
    body = [lines[k] for k in ("slug", "name", "kind", "homepage", "discovery", "feeds")]
    return "".join(("  - " if i == 0 else "    ") + line + "\n" for i, line in enumerate(body))


def write_text(tmp_path: Path, *entries: str, head: str = "version: 1\n") -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(head + "# nguồn tin\nsources:\n" + "".join(entries), encoding="utf-8")
    return path


@pytest.mark.reliability("config-malformed-line")
def test_a_yaml_mistake_in_one_entry_loses_only_that_entry(tmp_path: Path) -> None:
    path = write_text(
        tmp_path,
        entry_text("a"),
        entry_text("b", name="name: 'Liên đoàn b"),
        entry_text("c", kind="   kind: labour_federation"),
        entry_text("d"),
    )
    sources, problems = read_sources(path)
    assert [s.slug for s in sources] == ["a", "d"]
    assert [(p.entry, p.slug) for p in problems] == [(2, "b"), (3, "c")]
    assert all(str(p).startswith(f"{path}:") and "not valid YAML" in str(p) for p in problems)
    assert "lines 10-15:" in problems[0].message and "lines 16-21:" in problems[1].message
    assert "(line 18)" in problems[1].message  # the over-indented line
    with pytest.raises(ConfigError) as err:
        load_sources(path)  # strict: every problem, nothing else
    assert str(err.value).count("not valid YAML") == 2


def test_a_yaml_mistake_outside_the_list_leaves_nothing_usable(tmp_path: Path) -> None:
    path = write_text(tmp_path, entry_text("a"), head="version: 1\ndefaults:\n  interval: [60\n")
    sources, problems = read_sources(path)
    assert sources == [] and len(problems) == 1 and "outside the sources list" in str(problems[0])


@pytest.mark.reliability("config-duplicate-slug")
def test_a_slug_belongs_to_its_first_entry_even_a_broken_one(tmp_path: Path) -> None:
    path = write_text(
        tmp_path,
        entry_text("a", homepage="homepage: ftp://a.example.vn/"),
        entry_text("a"),
        entry_text("b"),
        entry_text("b"),
    )
    sources, problems = read_sources(path)
    assert [s.slug for s in sources] == ["b"]
    assert [str(p).split(": ", 1)[1] for p in problems] == [
        "source #1 (a): field homepage: not an http(s) URL: 'ftp://a.example.vn/'",
        "source #2 (a): field slug: duplicate of source #1",
        "source #4 (b): field slug: duplicate of source #3",
    ]
    assert [p.line for p in problems] == [7, 10, 22]


@pytest.mark.reliability("config-bad-field", "config-unknown-profile")
def test_every_problem_of_an_entry_is_named_with_its_line(tmp_path: Path) -> None:
    bad = entry_text(
        "x",
        kind="kind: blog\n    profile: khong_co\n    interval: 1",
        feeds="  feeds: ['https://x.example.vn/rss']\n      article_pattern: '(['",
    )
    path = write_text(tmp_path, entry_text("a"), bad)
    sources, problems = read_sources(path)
    assert [s.slug for s in sources] == ["a"]
    assert {(p.field, p.line) for p in problems} == {
        ("kind", 12),
        ("interval", 14),
        ("profile", 13),
        ("discovery.article_pattern", 18),
    }


def test_a_key_written_twice_skips_its_entry(tmp_path: Path) -> None:
    path = write_text(tmp_path, entry_text("a", kind="kind: labour_federation\n    homepage: https://khac.vn/"))
    sources, problems = read_sources(path)
    assert sources == []
    assert str(problems[0]).endswith("sources.yaml:8: source #1 (a): field homepage: written twice (lines 7 and 8)")


def test_unknown_top_level_key_is_reported_and_bad_defaults_stop_everything(tmp_path: Path) -> None:
    sources, problems = read_sources(write_text(tmp_path, entry_text("a"), head="version: 1\nnguon: 2\n"))
    assert [s.slug for s in sources] == ["a"] and "unknown top-level keys: ['nguon']" in str(problems[0])
    sources, problems = read_sources(write_text(tmp_path, entry_text("a"), head="defaults:\n  enable: false\n"))
    assert sources == [] and "'defaults' may set only interval and enabled" in str(problems[0])


def test_unreadable_files_give_one_problem(tmp_path: Path) -> None:
    assert read_sources(tmp_path / "absent.yaml") == (
        [],
        [ConfigProblem(str(tmp_path / "absent.yaml"), "file not found")],
    )
    (tmp_path / "latin.yaml").write_bytes("sources: []\n# Li\xean \n".encode("latin-1"))
    sources, problems = read_sources(tmp_path / "latin.yaml")
    assert sources == [] and "cannot be read" in str(problems[0])

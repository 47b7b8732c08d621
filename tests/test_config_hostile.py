"""Config files written to hurt: YAML alias bombs, slugs no file system takes, and a sources file read once.

The alias bombs are a few hundred bytes whose nested aliases stand for hundreds of millions of nodes; they are run
through `unionfeed` in a fresh interpreter with an address-space cap and a timeout, so that if the budget ever
stops working the test fails instead of taking the machine down. The slug and parse-once tests publish and crawl
real loopback sites (tests/support/loopback_sites.py) with the real children.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from feed.app.crawl_runner import crawl_in_child, publish_in_child, read_config
from feed.config.settings import load_settings
from feed.config.sources import SLUG_MAX, ConfigError, load_sources, read_sources
from feed.config.yaml_lines import AliasBudgetError, compose
from feed.store.api import Store

from .support.loopback_sites import FAST_SETTINGS, Site, serve, source_entry, write_config

REFUSED = 2  # exit status: configuration error, nothing done
SKIPPED = 3  # exit status: done, with entries of the sources file skipped
MEMORY_CAP = 1536 * 1024 * 1024  # bytes of address space a command may take here: a bomb that goes off dies


def bomb(levels: int = 9, key: str = "bom", *, mapping: bool = False) -> str:
    """YAML anchors, each a list (or mapping) of nine aliases to the one before: 9**levels nodes in about 1 KB."""

    def nine(item: str) -> str:
        if mapping:
            return "{" + ", ".join(f"k{i}: {item}" for i in range(9)) + "}"
        return "[" + ", ".join([item] * 9) + "]"

    lines = [f"{key}0: &{key}0 {nine('ca')}"]
    for level in range(1, levels + 1):
        lines.append(f"{key}{level}: &{key}{level} {nine(f'*{key}{level - 1}')}")
    return "\n".join(lines) + "\n"


def capped_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`unionfeed` in a fresh interpreter that may not take more than MEMORY_CAP nor run past 60 s."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    return subprocess.run(
        [sys.executable, "-m", "feed.app.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        preexec_fn=cap,
        check=False,
    )


def refusal_lines(stderr: str, path: Path) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"{path}:") and "YAML aliases refused" in line]


# --- alias bombs --------------------------------------------------------------------------------------------
@pytest.mark.reliability("config-alias-bomb")
def test_an_alias_bomb_in_sources_yaml_is_refused_before_any_walk(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config", [source_entry("mot", "http://127.0.0.1:9")])
    text = "version: 1\n" + bomb().replace("bom", "x-bom") + config.read_text(encoding="utf-8").split("\n", 1)[1]
    # The anchors sit under keys of their own; a selector of the entry points at the last one.
    text = text.replace("    interval: 60\n", "    interval: 60\n    selectors: {remove: *x-bom9}\n")
    config.write_text(text, encoding="utf-8")
    assert len(text.encode()) < 1500
    alias_lines = {n for n, line in enumerate(text.splitlines(), 1) if "*x-bom" in line}
    for command in (("sources", "list"), ("status",), ("crawl",)):
        result = capped_cli("--config", str(config), "--data", str(tmp_path / "data"), *command)
        assert result.returncode == REFUSED, (command, result.returncode, result.stderr[-2000:])
        said = refusal_lines(result.stderr, config)
        assert len(said) == 1, (command, result.stderr[-2000:])
        line = int(said[0].removeprefix(f"{config}:").split(":", 1)[0])  # where the aliases crossed the budget
        assert line in alias_lines and "more than 200,000 nodes" in said[0], said
        assert "Traceback" not in result.stderr
    with pytest.raises(ConfigError, match="YAML aliases refused"):
        load_sources(config)


@pytest.mark.reliability("config-settings-alias-bomb")
def test_an_alias_bomb_in_settings_yaml_stops_every_command_with_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config", [source_entry("mot", "http://127.0.0.1:9")])
    settings_file = config.parent / "settings.yaml"
    settings_file.write_text(FAST_SETTINGS + bomb(mapping=True), encoding="utf-8")
    for command in (("status",), ("publish",), ("crawl",)):
        result = capped_cli("--config", str(config), "--data", str(tmp_path / "data"), *command)
        assert result.returncode == REFUSED, (command, result.returncode, result.stderr[-2000:])
        said = refusal_lines(result.stderr, settings_file)
        assert len(said) == 1 and "more than 200,000 nodes" in said[0], (command, result.stderr[-2000:])
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was touched


@pytest.mark.reliability("config-alias-bomb")
def test_aliases_within_the_budget_still_share_values_and_a_self_reference_is_refused() -> None:
    shared = "chung: &chung {remove: ['.quang-cao', '.binh-luan']}\nmot: *chung\nhai: *chung\n"
    data, _ = compose(shared)
    assert data["mot"] == data["hai"] == {"remove": [".quang-cao", ".binh-luan"]}
    with pytest.raises(AliasBudgetError, match="more than 20 nodes"):
        compose(bomb(2), budget=20)  # 9 aliases of 10 nodes, then 9 of 91: the second crosses 20
    with pytest.raises(AliasBudgetError, match="an alias refers to a node that contains it"):
        compose("vong: &vong [mot, *vong]\n")


# --- slugs ------------------------------------------------------------------------------------------------------
def slug_entry(slug_yaml: str, base: str) -> str:
    return source_entry("thay-the", base).replace("  - slug: thay-the\n", f"  - slug: {slug_yaml}\n", 1)


@pytest.mark.reliability("config-slug-bounds")
def test_slugs_with_a_newline_or_too_long_are_refused_by_file_line_entry_and_field(tmp_path: Path) -> None:
    long_slug = "cong-doan-" + "a" * 290
    config = write_config(
        tmp_path,
        [
            source_entry("nl", "http://127.0.0.1:9"),
            slug_entry('"nl\\n"', "http://127.0.0.1:9"),
            slug_entry(long_slug, "http://127.0.0.1:9"),
            slug_entry('"tab\\tgiua"', "http://127.0.0.1:9"),
            slug_entry("a" * SLUG_MAX, "http://127.0.0.1:9"),
        ],
    )
    sources, problems = read_sources(config)
    assert [s.slug for s in sources] == ["nl", "a" * SLUG_MAX]
    lines = config.read_text(encoding="utf-8").splitlines()
    slug_lines = [n for n, line in enumerate(lines, 1) if line.startswith("  - slug:")]
    shown = [str(p) for p in problems]
    assert [(p.entry, p.field, p.line) for p in problems] == [(n, "slug", slug_lines[n - 1]) for n in (2, 3, 4)]
    assert all("\n" not in line and "\t" not in line and len(line) < 400 for line in shown), shown
    assert shown[0].startswith(f"{config}:{slug_lines[1]}: source #2 ('nl\\n'): field slug: ")
    assert "no spaces, newlines or control characters" in shown[0]
    assert f"field slug: slug is 300 characters long; at most {SLUG_MAX} are allowed" in shown[1]
    assert shown[2].startswith(f"{config}:{slug_lines[3]}: source #4 ('tab\\tgiua'): field slug: ")


@pytest.mark.reliability("config-slug-bounds")
def test_a_300_character_slug_no_longer_stops_publishing(tmp_path: Path) -> None:
    sites = [Site("mot", articles=3), Site("hai", articles=3)]
    with serve(sites) as bases:
        config = write_config(
            tmp_path / "config",
            [
                source_entry("mot", bases["mot"]),
                slug_entry("a" * 300, bases["hai"]),
                slug_entry('"mot\\n"', bases["hai"]),
            ],
        )
        settings = load_settings(config, tmp_path / "data")
        assert crawl_in_child(settings, [], timeout=60) == SKIPPED
        assert all(not site.hits for site in sites[1:])
    result = subprocess.run(
        [sys.executable, "-m", "feed.app.cli", "--config", str(config), "--data", str(settings.data), "publish"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == SKIPPED, result.stderr[-2000:]
    assert "File name too long" not in result.stderr and "Traceback" not in result.stderr
    assert {p.stem for p in (settings.public / "feeds" / "sources").iterdir()} == {"mot"}
    feed = feedparser.parse(str(settings.public / "feeds" / "all.atom"))
    assert not feed.bozo and len(feed.entries) == 3


# --- the sources file read once per process tree ------------------------------------------------------------------
@pytest.mark.reliability("config-parsed-once")
def test_children_crawl_and_publish_the_sources_their_parent_read(tmp_path: Path) -> None:
    site = Site("mot", articles=3)
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry("mot", bases["mot"])])
        settings = load_settings(config, tmp_path / "data")
        parsed = read_config(settings)
        # The file changes after the parent read it: the children go by what they were handed.
        config.write_text("version: 1\nsources: [khong, hop, le\n", encoding="utf-8")
        assert crawl_in_child(settings, ["mot"], timeout=60, config=parsed) == 0
        assert publish_in_child(settings, config=parsed) == 0
        # Without a reading handed over, the file is read at the call, as the scheduler does at every poll.
        assert crawl_in_child(settings, ["mot"], timeout=60) == REFUSED
    store = Store(settings.db_url)
    try:
        assert len(store.runs("mot")) == 1 and len(store.articles(source_slug="mot")) == 3
    finally:
        store.close()
    assert len(feedparser.parse(str(settings.public / "feeds" / "sources" / "mot.atom")).entries) == 3


@pytest.mark.reliability("config-parsed-once")
def test_a_sources_file_is_parsed_again_exactly_when_its_text_changes(tmp_path: Path) -> None:
    config = write_config(tmp_path, [source_entry("mot", "http://127.0.0.1:9")])
    first = read_sources(config)
    assert [s.slug for s in first[0]] == ["mot"]
    first[0].clear()  # a caller's list is its own
    assert [s.slug for s in read_sources(config)[0]] == ["mot"]
    # Same length, written at once: a cache keyed on size or modification time would miss this change.
    config.write_text(config.read_text(encoding="utf-8").replace("mot", "hai"), encoding="utf-8")
    assert [s.slug for s in read_sources(config)[0]] == ["hai"]

"""`unionfeed sources add URL`: from a homepage alone, a probe crawl and a proposed entry that works.

The loopback test takes each real-shaped site of tests/support/real_shaped_sites.py (the cookie-gated laodong.vn,
nld.com.vn moved to tuoitre.vn/nld, the NukeViet portal full of menus, the numbered-pages paper, the script-built
list — with `--render browser` — and the canonical-abusing CMS), runs `unionfeed sources add <homepage>` against it
as an operator would, writes the entry it printed into a fresh sources file, crawls with it, and judges the crawl as
tests/test_real_shaped.py does: every expected article stored right, no page that is not an article, nothing asked
outside the boundary.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from feed.app.crawl_runner import crawl_in_child
from feed.app.sources_add import append_entry, guess_kind, render_entry, slug_for
from feed.config.settings import load_settings
from feed.config.sources import ConfigError, SourceKind, load_sources, parse_sources
from feed.store.api import Store

from .support.cli import run_cli
from .support.loopback_sites import FAST_SETTINGS
from .support.needs import missing
from .support.real_shaped_sites import SITES, Decoy, browser_available, judge, serve_site


def test_a_slug_comes_from_the_host_and_the_moved_path() -> None:
    assert slug_for("https://congdoan.cantho.gov.vn/") == "congdoan-cantho"
    assert slug_for("https://www.congdoanhaiphong.vn/") == "congdoanhaiphong"
    assert slug_for("https://tuoitre.vn/nld/") == "tuoitre-nld"
    assert slug_for("http://127.0.0.1:8080/") == "127-0-0-1"


def test_the_kind_is_guessed_from_the_site_name() -> None:
    assert guess_kind("Liên đoàn Lao động tỉnh Tuyên Quang", "https://congdoantuyenquang.vn/") == (
        SourceKind.LABOUR_FEDERATION
    )
    assert guess_kind("Công đoàn Giao thông vận tải Việt Nam", "https://x.vn/") == SourceKind.SECTOR_UNION
    assert guess_kind("Trường Đại học Công đoàn", "https://dhcd.edu.vn/") == SourceKind.ACADEMY
    assert guess_kind("Trang tin", "https://example.vn/") == SourceKind.OTHER


ENTRY = {
    "slug": "ldld-moi",
    "name": "Liên đoàn Lao động tỉnh Mới",
    "kind": "labour_federation",
    "homepage": "https://ldld-moi.example.vn/",
    "discovery": {"feeds": ["https://ldld-moi.example.vn/rss/home.rss"]},
    "verified": {"urls": True, "markup": False, "note": "proposed by `unionfeed sources add`"},
}
FILE = "# what we watch\nversion: 1\nsources:\n  # the first one\n  - slug: co-san\n    name: Có sẵn\n" + (
    "    kind: other\n    homepage: https://co-san.example.vn/\n"
)


def test_the_entry_is_appended_keeping_the_files_comments(tmp_path: Path) -> None:
    (entry,) = parse_sources({"version": 1, "sources": yaml.safe_load(render_entry(ENTRY))})
    assert entry.slug == "ldld-moi" and entry.name == "Liên đoàn Lao động tỉnh Mới"
    path = tmp_path / "sources.yaml"
    path.write_text(FILE, encoding="utf-8")
    append_entry(path, ENTRY)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(FILE) and "# the first one" in text
    assert [s.slug for s in load_sources(path)] == ["co-san", "ldld-moi"]


@pytest.mark.parametrize(
    ("change", "words"),
    [({"slug": "co-san"}, "exists"), ({"kind": "blog"}, "kind"), ({"homepage": "ftp://x.vn/"}, "http(s)")],
)
def test_an_entry_that_would_break_the_file_is_not_written(tmp_path: Path, change: dict[str, str], words: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(FILE, encoding="utf-8")
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        append_entry(path, {**ENTRY, **change})
    assert path.read_text(encoding="utf-8") == FILE
    assert not list(tmp_path.glob(".*.tmp"))


def fast_config(folder: Path) -> Path:
    """An empty sources file beside the loopback settings every crawl test uses (no politeness delay: the default
    1 s delay and 2 s AutoThrottle start made each probe and crawl of these sites take 30-50 s, and the probe
    judges what it reads, not how politely)."""
    (folder / "settings.yaml").write_text(FAST_SETTINGS, encoding="utf-8")
    empty = folder / "empty.yaml"
    empty.write_text("version: 1\nsources: []\n", encoding="utf-8")
    return empty


@pytest.mark.parametrize("slug", sorted(SITES))
def test_sources_add_proposes_a_working_entry_from_the_homepage_alone(slug: str, tmp_path: Path) -> None:
    site = SITES[slug]()
    if site.needs_js and not browser_available():
        missing("chromium and scrapy-playwright (the extra 'browser') are needed to read a script-built list")
    site.browser = site.needs_js
    decoy = Decoy()
    empty = fast_config(tmp_path)
    with serve_site(site, decoy):
        homepage = site.url(next(iter(site.hosts)), "/")
        args = ["--config", str(empty), "--data", str(tmp_path / "probe"), "sources", "add", homepage, "--slug", slug]
        if site.browser:
            args += ["--render", "browser"]
        proposed = run_cli(*args, timeout=300)
        assert proposed.returncode == 0, proposed.stdout + proposed.stderr[-2000:]
        report = [line for line in proposed.stdout.splitlines() if line.startswith("#")]
        entry_text = "\n".join(line for line in proposed.stdout.splitlines() if not line.startswith("#"))
        config = tmp_path / "sources.yaml"
        config.write_text("version: 1\nsources:\n" + entry_text + "\n", encoding="utf-8")
        (source,) = load_sources(config)
        assert source.homepage == homepage and source.slug == slug
        assert any(line.startswith("# ") and "sample:" in line for line in report), report
        settings = load_settings(config, tmp_path / "data")
        assert crawl_in_child(settings, [slug], timeout=120) == 0
    store = Store(settings.db_url)
    try:
        rows = store.articles(source_slug=slug)
    finally:
        store.close()
    outcome = judge(site, decoy, rows)
    problems = outcome.problems(needs_js_cause=False)
    assert not problems and outcome.found == outcome.expected, "\n".join([entry_text, *report, *problems])


def test_a_script_built_site_probed_plainly_is_named_with_the_browser_hint(tmp_path: Path) -> None:
    site = SITES["bo-noi-vu-tin-tuc"]()
    empty = fast_config(tmp_path)
    with serve_site(site, Decoy()):
        homepage = site.url(next(iter(site.hosts)), "/")
        args = ["--config", str(empty), "--data", str(tmp_path / "d"), "sources", "add", homepage, "--write"]
        proposed = run_cli(*args, timeout=300)
    assert proposed.returncode == 1, proposed.stdout + proposed.stderr
    report = [line for line in proposed.stdout.splitlines() if line.startswith("#")]
    assert any("obstacle:" in line and "needs JavaScript" in line for line in report), report
    assert any("--render browser" in line for line in report), report
    assert "not written" in proposed.stderr and empty.read_text(encoding="utf-8") == "version: 1\nsources: []\n"


def test_sources_check_reports_the_probe_for_a_configured_source(tmp_path: Path) -> None:
    site = SITES["ldld-quang-tri"]()
    fast_config(tmp_path)
    with serve_site(site, Decoy()):
        config = tmp_path / "sources.yaml"
        config.write_text("version: 1\nsources:\n" + site.entry(), encoding="utf-8")
        checked = run_cli("--config", str(config), "--data", str(tmp_path / "d"), "sources", "check", timeout=300)
        quick = run_cli(
            "--config", str(config), "--data", str(tmp_path / "d"), "sources", "check", "--no-probe", timeout=300
        )
    assert f"{site.slug} (" in checked.stdout and "discovered:" in checked.stdout, checked.stdout + checked.stderr
    samples = [line for line in checked.stdout.splitlines() if line.strip().startswith("sample:")]
    assert len(samples) == 3 and all(site.url("cd", "/") in line for line in samples), checked.stdout
    assert checked.returncode == 0 and "no article URLs found" not in checked.stdout  # no quick check without URLs
    assert "discovered:" not in quick.stdout and quick.returncode == 1  # only the quick check, which has nothing

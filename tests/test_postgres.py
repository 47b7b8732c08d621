"""PostgreSQL as the store, for real: the driver is declared, CI starts a server, `unionfeed crawl` and
`publish` write to and read from it, and the demo uses the operator's database URL.

The store, publish and reclassify tests run on both engines through the `database_url` fixture
(tests/support/databases.py); this file holds what is about PostgreSQL itself.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest

from feed.app.cli import build_parser
from feed.app.demo import DEMO_SITES, demo_settings, refuse_a_shared_database
from feed.config.settings import Settings
from feed.config.sources import ConfigError
from feed.records import Extracted
from feed.store.api import Store

from .support.cli import run_cli
from .support.loopback_sites import Site, serve, source_entry, write_config
from .support.needs import ROOT


@pytest.mark.reliability("postgres-driver")
def test_the_postgres_extra_declares_the_driver_and_ci_starts_a_server() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (driver,) = project["optional-dependencies"]["postgres"]
    assert driver.startswith("psycopg[binary]>=3"), driver
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "postgresql" in ci and ".ci/postgres start" in ci and "export UNIONFEED_TEST_DATABASE_URL" in ci
    assert "postgres]" in ci  # the extra is installed with the others the tests exercise
    assert any(need.startswith("psycopg[binary]>=3") for need in project["optional-dependencies"]["test"])


@pytest.mark.reliability("postgres-crawl-publish")
def test_crawl_and_publish_commands_store_in_postgresql(tmp_path: Path, postgres_url: str) -> None:
    site = Site("pg-mau", articles=6)
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry("pg-mau", bases["pg-mau"])])
        data = tmp_path / "data"
        common = ["--config", str(config), "--data", str(data)]
        env = {"UNIONFEED_DATABASE_URL": postgres_url}
        crawled = run_cli(*common, "crawl", env=env, timeout=120)
        assert crawled.returncode == 0, crawled.stderr[-3000:]
        published = run_cli(*common, "publish", env=env, timeout=120)
        assert published.returncode == 0, published.stderr[-3000:]
    store = Store(postgres_url)
    try:
        assert store.engine.dialect.name == "postgresql"
        urls = {row.url for row in store.articles(source_slug="pg-mau")}
        (run,) = store.runs("pg-mau")
    finally:
        store.close()
    assert urls == {f"{bases['pg-mau']}/tin-tuc/bai-{n}.html" for n in range(1, 7)}
    assert (run.finish_reason, run.new) == ("finished", 6)
    feed = feedparser.parse(str(data / "public" / "feeds" / "all.atom"))
    assert not feed.bozo and {entry.link for entry in feed.entries} == urls
    assert not list(data.glob("*.sqlite*"))  # nothing went to the default SQLite file


@pytest.mark.reliability("postgres-demo-url")
def test_the_demo_keeps_the_operators_database_url(tmp_path: Path) -> None:
    url = "postgresql+psycopg://unionfeed@127.0.0.1:5432/demo"
    from_environment = replace(Settings(), database_url=url)  # UNIONFEED_DATABASE_URL or settings.yaml
    assert demo_settings(from_environment, tmp_path, tmp_path / "sources.yaml").db_url == url
    args = build_parser().parse_args(["demo", "--database-url", url, "--out", str(tmp_path)])
    assert args.database_url == url
    default = demo_settings(Settings(), tmp_path, tmp_path / "sources.yaml").db_url
    assert default == f"sqlite:///{(tmp_path / 'unionfeed.sqlite').resolve()}"


@pytest.mark.reliability("postgres-demo-url")
def test_the_demo_refuses_a_database_holding_other_sources(database_url: str) -> None:
    store = Store(database_url)
    try:
        mine = Extracted(url="http://127.0.0.1:1/tin-tuc/bai-1.html", title="Hội nghị", body_text="Công đoàn họp.")
        store.upsert(DEMO_SITES[0], mine)
        refuse_a_shared_database(database_url)  # the demo's own articles from an earlier run: accepted
        theirs = Extracted(url="https://ldld.vn/tin/1.html", title="Tin thật", body_text="Đoàn viên nhận quà Tết.")
        store.upsert("ldld-that", theirs)
    finally:
        store.close()
    with pytest.raises(ConfigError, match=r"already holds articles of other sources \(ldld-that\)"):
        refuse_a_shared_database(database_url)

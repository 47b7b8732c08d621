"""`unionfeed demo`: serve the bundled sample sites on 127.0.0.1, crawl them, publish, and show what came out."""

from __future__ import annotations

import functools
import io
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from feed.config.settings import Settings
from feed.config.sources import load_sources

DEMO_SITES = ("ldld-demo", "baotinh-demo", "cdnganh-demo")


TEXT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves one sample site; `{slug}` tokens in its text files become the sites' loopback origins."""

    bases: ClassVar[dict[str, str]] = {}  # replaced per site by serve_sites

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?", 1)[0].endswith("/"):
            path = path / "index.html"
        content_type = TEXT_TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            return super().send_head()
        text = path.read_text(encoding="utf-8")
        for slug, base in self.bases.items():
            text = text.replace("{" + slug + "}", base)
        body = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def sites_root() -> Path:
    """The folder of sample sites shipped inside the package."""
    return Path(str(resources.files("feed.app").joinpath("demo_sites")))


@contextmanager
def serve_sites(root: Path, names: tuple[str, ...] = DEMO_SITES) -> Iterator[dict[str, str]]:
    """Serve each sample site from its own loopback port; yields slug -> base URL."""
    servers: list[ThreadingHTTPServer] = []
    bases: dict[str, str] = {}
    try:
        for name in names:
            # Every site's handler shares the one `bases` dict, filled in as the ports are bound.
            handler_class = type(f"SiteHandler_{name}", (SiteHandler,), {"bases": bases})
            handler = functools.partial(handler_class, directory=str(root / name))
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            server.daemon_threads = True
            servers.append(server)
            bases[name] = f"http://127.0.0.1:{server.server_address[1]}"
        for server in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        yield bases
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def write_sources(template: Path, bases: dict[str, str], target: Path) -> Path:
    """The sample sources file with each {slug} placeholder replaced by that site's loopback base URL."""
    text = template.read_text(encoding="utf-8")
    for slug, base in bases.items():
        text = text.replace("{" + slug + "}", base)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def demo_settings(settings: Settings, out: Path, sources_file: Path) -> Settings:
    """The operator's settings, pointed at the demo folder, with no delays (our own sites on loopback). The
    operator's database URL (`--database-url`, UNIONFEED_DATABASE_URL, settings.yaml) is kept: the demo is how
    one checks a PostgreSQL server before pointing real sources at it; without one, a SQLite file in the folder."""
    fast = replace(
        settings.politeness, download_delay=0.0, autothrottle_start_delay=0.01, retry_times=1, download_timeout=10
    )
    return replace(
        settings,
        config=sources_file,
        data=out,
        public_dir=None,
        politeness=fast,
        crawl_time_limit=120,
    )


def refuse_a_shared_database(url: str) -> None:
    """The demo publishes everything its store holds and cannot empty a database it was given: one that already
    holds articles of sources other than the demo's is refused (ConfigError) before anything is crawled."""
    from feed.config.sources import ConfigError
    from feed.store.api import Store

    store = Store(url)
    try:
        others = sorted({row.source_slug for row in store.articles()} - set(DEMO_SITES))
        shown = store.engine.url.render_as_string(hide_password=True)
    finally:
        store.close()
    if others:
        raise ConfigError(
            f"demo: the database {shown} already holds articles of other sources "
            f"({', '.join(others[:5])}{' …' if len(others) > 5 else ''}); give the demo an empty database of its own"
        )


def run_demo(out: Path, settings: Settings) -> int:
    """Serve the sample sites, crawl them once, publish, print a summary; returns an exit status."""
    from rich.markup import escape
    from rich.table import Table

    from feed.app.console import console as make_console
    from feed.app.crawl_runner import CrawlOptions, crawl
    from feed.publish.publisher import publish
    from feed.store.api import Store

    console = make_console()
    started = time.monotonic()
    out = out.resolve()
    if settings.database_url:
        refuse_a_shared_database(settings.database_url)
    else:
        for stale in ("unionfeed.sqlite", "unionfeed.sqlite-wal", "unionfeed.sqlite-shm"):
            (out / stale).unlink(missing_ok=True)
    shutil.rmtree(out / "public", ignore_errors=True)
    root = sites_root()
    with serve_sites(root) as bases:
        sources_file = write_sources(root / "sources.yaml", bases, out / "sources.yaml")
        demo = demo_settings(settings, out, sources_file)
        sources = load_sources(sources_file)
        console.print(f"Serving {len(bases)} sample sites on 127.0.0.1: " + ", ".join(bases.values()))
        crawl(demo, sources, CrawlOptions(log_level="ERROR"))
    store = Store(demo.db_url)
    try:
        written = publish(store, demo, sources)
        runs = store.last_runs()
        articles = store.articles()
    finally:
        store.close()
    table = Table(
        "source",
        "pages fetched",
        "articles",
        "meeting reports",
        "in a cluster",
        "page errors",
        title="unionfeed demo: crawl → extract → store → classify → publish",
    )
    for source in sources:
        mine = [a for a in articles if a.source_slug == source.slug]
        run = runs.get(source.slug)
        table.add_row(
            source.slug,
            str(run.pages if run else 0),
            str(len(mine)),
            str(sum(a.is_meeting_report for a in mine)),
            str(sum(1 for a in mine if not a.is_canonical)),
            str(run.errors if run else 0),
        )
    console.print(table)
    console.print("Meeting reports found:")
    for article in [a for a in articles if a.is_meeting_report and a.is_canonical]:
        console.print(f"  {escape(f'[{article.meeting_kind}]')} {escape(article.title or '')}")
    console.print(f"Published {len(written)} files under {demo.public}:")
    for name in (
        "feeds/meetings.atom",
        "feeds/meetings.rss",
        "feeds/meetings.json",
        "feeds/all.atom",
        "feeds/all.rss",
        "snapshots/latest.json",
        "index.html",
    ):
        console.print(f"  {demo.public / name}")
    console.print(
        f"Done in {time.monotonic() - started:.1f} s. Serve them with: "
        # the demo's own sources file: the query feeds know its sources and provinces by it
        f"unionfeed --data {out} --config {out / 'sources.yaml'} serve --port 8080"
    )
    return 0 if articles else 1

"""`unionfeed reclassify`: stored articles get the classifier's verdict again; the next publish moves items into
and out of the meetings and kind feeds and announces nothing anew (same GUIDs, same times)."""

from __future__ import annotations

from pathlib import Path

import feedparser
import yaml

from feed.ingest import reclassify
from feed.publish.publisher import publish
from feed.records import Meeting

from .support.cli import run_cli
from .support.feedworld import SOURCES, World, make_world


def entries(world: World, name: str) -> dict[str, tuple[str, str, str]]:
    """link -> (guid, published, updated) of a published Atom feed."""
    parsed = feedparser.parse(str(world.settings.public / "feeds" / name))
    assert not parsed.bozo, parsed.bozo_exception
    return {e.link: (e.id, e.published, e.updated) for e in parsed.entries}


def test_reclassify_moves_items_between_feeds_without_reannouncing(tmp_path: Path, database_url: str) -> None:
    world = make_world(tmp_path, db_url=database_url)
    # Verdicts an older classifier got wrong: a year-end review stored as not a report, a gift story as one.
    world.store.save_meeting(world.ids["tong-ket"], Meeting())
    world.store.save_meeting(world.ids["tin-thuong"], Meeting(is_report=True, score=0.9, kind="tong_ket"))
    publish(world.store, world.settings, world.sources)
    before_all, before_meetings = entries(world, "all.atom"), entries(world, "meetings.atom")
    review, gifts = world.url("tong-ket"), world.url("tin-thuong")
    assert review not in before_meetings and gifts in before_meetings

    figures = reclassify(world.store)
    assert figures.read == len(world.ids) and figures.now_reports >= 1 and figures.no_longer_reports >= 1
    assert world.store.get(world.ids["tong-ket"]).meeting_kind == "tong_ket"  # type: ignore[union-attr]
    publish(world.store, world.settings, world.sources)
    after_all, after_meetings = entries(world, "all.atom"), entries(world, "meetings.atom")

    assert review in after_meetings and gifts not in after_meetings  # moved in, and just left
    assert after_meetings[review] == before_all[review]  # the GUID and times it already had: nothing re-announced
    assert after_all == before_all
    assert review in entries(world, "kinds/tong_ket.atom")
    assert reclassify(world.store).changed == 0  # verdicts are the classifier's now: a second run changes nothing
    world.store.close()


def test_the_command_reclassifies_by_source_and_date(tmp_path: Path) -> None:
    """On SQLite only: five CLI starts are slow, and tests/test_postgres.py runs the CLI on PostgreSQL."""
    database_url = f"sqlite:///{tmp_path / 'feeds.sqlite'}"
    world = make_world(tmp_path, db_url=database_url)
    world.store.save_meeting(world.ids["tong-ket"], Meeting())
    world.store.save_meeting(world.ids["dai-hoi"], Meeting())
    world.store.close()
    config = tmp_path / "sources.yaml"
    config.write_text(yaml.safe_dump(SOURCES, allow_unicode=True), encoding="utf-8")
    common = ["--config", str(config), "--data", str(tmp_path)]
    # make_world's store is not the settings' default: the command is pointed at it.
    env = {"UNIONFEED_DATABASE_URL": database_url}

    only = run_cli(*common, "reclassify", "ldld-mau", env=env)
    assert only.returncode == 0, only.stderr
    assert "reclassified 3 stored articles" in only.stdout  # ldld-mau's three, not the others
    later = run_cli(*common, "reclassify", "--since", "2099-01-01", env=env)
    assert later.returncode == 0 and "reclassified 0 stored articles" in later.stdout
    every = run_cli(*common, "reclassify", env=env)
    assert every.returncode == 0 and "now meeting reports" in every.stdout
    unknown = run_cli(*common, "reclassify", "khong-co", env=env)
    assert unknown.returncode == 2 and "unknown source slug(s): khong-co" in unknown.stderr
    bad_date = run_cli(*common, "reclassify", "--since", "hôm qua", env=env)
    assert bad_date.returncode == 2 and "not a date" in bad_date.stderr

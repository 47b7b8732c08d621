"""snapshots/articles.jsonl: one article a line, the records of latest.json, loaded as data teams load it.

A real publish over a real store (SQLite, or PostgreSQL when UNIONFEED_TEST_DATABASE_URL is set) of the invented
Vietnamese union articles of tests/support/feedworld.py; the file is read with pandas when it is installed,
else line by line with json, as any JSON Lines reader does.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feed.publish.jsonl import JSONL_PATH, articles_jsonl
from feed.publish.publisher import publish
from feed.serve.server import serve_in_thread

from .support.feedworld import VN, Art, World, add_article


def load_lines(path: Path) -> list[dict[str, Any]]:
    """The file as a data team loads it: pandas.read_json(path, lines=True) when pandas is here, else json a line."""
    try:
        import pandas  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        text = path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.split("\n") if line]
    frame = pandas.read_json(path, lines=True, dtype=False, convert_dates=False)
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def test_articles_jsonl_holds_every_record_of_latest_json_one_a_line(world: World) -> None:
    publish(world.store, world.settings, world.sources)
    public = world.settings.public
    latest = json.loads((public / "snapshots" / "latest.json").read_text(encoding="utf-8"))
    path = public / JSONL_PATH
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    assert text.endswith("\n") and text.count("\n") == latest["count"] > 0
    assert unicodedata.is_normalized("NFC", text) and "Công đoàn" in text
    assert not re.search(r"\\u(1e[a-f]|00[c-f]|01)", text, re.IGNORECASE)  # Vietnamese letters as they are, unescaped
    assert [json.loads(line) for line in text.splitlines()] == latest["articles"]  # same fields, same order
    assert [r["id"] for r in load_lines(path)] == [a["id"] for a in latest["articles"]]
    manifest = json.loads((public / "snapshots" / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = [f for f in manifest["files"] if f["path"] == JSONL_PATH]
    assert entry["sha256"] == hashlib.sha256(raw).hexdigest() and entry["bytes"] == len(raw)
    assert entry["count"] == latest["count"]
    server = serve_in_thread(public)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{JSONL_PATH}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.headers["Content-Type"] == "application/jsonl; charset=utf-8" and answer.read() == raw
    finally:
        server.shutdown()
        server.server_close()


def test_articles_jsonl_is_rewritten_only_when_an_article_changed(world: World) -> None:
    publish(world.store, world.settings, world.sources)
    path = world.settings.public / JSONL_PATH
    first = (path.read_bytes(), path.stat().st_mtime_ns)
    publish(world.store, world.settings, world.sources)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == first  # nothing changed: same bytes, same file

    path.unlink()  # lost (an operator's cleanup): the next publish puts it back though nothing changed
    publish(world.store, world.settings, world.sources)
    assert path.read_bytes() == first[0]

    when = datetime.now(UTC) - timedelta(hours=2)
    fresh = Art(
        "dai-hoi-cd-xa",
        "ldld-mau",
        "Đại hội Công đoàn xã Tân Phước nhiệm kỳ 2026–2031",
        "Sáng 6/12, Công đoàn xã Tân Phước tổ chức Đại hội đại biểu lần thứ I, bầu Ban Chấp hành gồm 9 đồng chí.",
        when.astimezone(VN),
    )
    new_id = add_article(world.store, fresh, when)
    publish(world.store, world.settings, world.sources)
    records = load_lines(path)
    assert len(records) == len(first[0].splitlines()) + 1
    (added,) = [r for r in records if r["id"] == new_id]
    assert added["title"] == "Đại hội Công đoàn xã Tân Phước nhiệm kỳ 2026–2031"


def test_the_writer_keeps_each_record_on_one_nfc_line() -> None:
    decomposed = unicodedata.normalize("NFD", "Hội nghị Ban Chấp hành Công đoàn ngành Giáo dục")
    record = json.dumps({"id": "a1", "title": decomposed, "lead": "Dòng một\u2028dòng hai"}, ensure_ascii=False)
    data = articles_jsonl([record, record.encode("utf-8"), ""])
    text = data.decode("utf-8")
    assert text.count("\n") == 2 and len(text.splitlines()) == 2  # U+2028 escaped: no reader splits inside
    first = json.loads(text.splitlines()[0])
    assert first["title"] == "Hội nghị Ban Chấp hành Công đoàn ngành Giáo dục"
    assert unicodedata.is_normalized("NFC", first["title"]) and first["lead"] == "Dòng một\u2028dòng hai"
    assert articles_jsonl([]) == b""

"""snapshots/articles.jsonl: every article of latest.json, one JSON object a line, for data teams.

`pandas.read_json(path, lines=True)` and duckdb's `read_json_auto(path)` load it as it is (latest.json wraps its
articles in a document, which costs them a second line of code). Each line is an article record exactly as in
latest.json (the same fields, in the same order, fetched_at last), UTF-8 with Vietnamese letters as they are
(ensure_ascii off), NFC; U+2028 and U+2029 are escaped so that no reader splits a record inside a string.

The writer takes the records to write (`articles_jsonl`). The publisher hands it latest.json's records
(`jsonl_output`), and only when latest.json itself is rewritten: a publish that changes nothing leaves the file,
its ETag and its manifest entry as they were. Written atomically with every other published file (staged, then
renamed at the publish's commit point) and listed in snapshots/manifest.json.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path

from feed.publish.transaction import Output

JSONL_PATH = "snapshots/articles.jsonl"
LATEST_PATH = "snapshots/latest.json"
RECORD_START = b'{"id":"'  # how every article record of latest.json begins (feed.publish.snapshots writes it so)


def articles_jsonl(stories: Iterable[str | bytes]) -> bytes:
    """The file's bytes: one record (a JSON object on one line) per story, each ended by a newline."""
    lines = []
    for record in stories:
        text = record.decode("utf-8") if isinstance(record, bytes) else record
        text = unicodedata.normalize("NFC", text.strip()).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        if text:
            lines.append(text + "\n")
    return "".join(lines).encode("utf-8")


def latest_records(latest: bytes) -> list[bytes]:
    """The article records of a latest.json as feed.publish.snapshots writes it (one record a line)."""
    return [line.removesuffix(b",") for line in latest.split(b"\n") if line.startswith(RECORD_START)]


def jsonl_output(latest: str | bytes | None, out: Path, count: int, max_age: int) -> Output:
    """articles.jsonl for this publish: unchanged (None) when latest.json is and the file exists, else rewritten
    from latest.json's records (this run's text, or the published file when only articles.jsonl is missing)."""
    target = out / JSONL_PATH
    if latest is None:
        if target.is_file():
            return Output(None, count, max_age)
        try:
            latest = (out / LATEST_PATH).read_bytes()
        except OSError:
            latest = b""
    data = latest.encode("utf-8") if isinstance(latest, str) else latest
    return Output(articles_jsonl(latest_records(data)), count, max_age)

"""Gzip files beside the published ones (`feeds/x.atom.gz` beside `feeds/x.atom`), written at publish time.

A server then sends the `.gz` as it is to a client that accepts gzip (`unionfeed serve`, nginx's
`gzip_static on`) instead of compressing on every request (the first gzip of a 474 MB latest.json took 9.7 s).

Each `.gz` names the file it was made from: its gzip header's FNAME field holds the sha256 (hex) of the
uncompressed bytes. Clients ignore that field; `unionfeed serve` reads it and sends a `.gz` only when it matches
the file beside it, so a stale `.gz` (a publish interrupted between the two renames, an operator's hand edit)
is never served for newer content.

Light on purpose (no store, no network): the server imports `source_digest` to read that field. The publisher
calls `gzip_steps` with the transaction's steps just before its commit: the `.gz` files are staged beside their
targets like every other file and renamed by the same journal, so a killed publish rolls them forward or drops
them with the rest (feed.publish.transaction).
"""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from feed.publish.transaction import STAGED_SUFFIX, stage_with

GZ = ".gz"
# The published types worth compressing (images are not: png is compressed already).
COMPRESSIBLE = frozenset({".atom", ".rss", ".json", ".html", ".opml", ".xml", ".css", ".txt"})
LEVEL = 6  # nginx's and the old on-the-fly level: a 474 MB latest.json in seconds, not minutes
CHUNK = 1 << 20
_HEADER_MAX = 10 + 65 + 2  # magic..OS, FNAME (64 hex digits and its NUL), slack


def wants_gzip(path: str) -> bool:
    """True for a published path that gets a `.gz` beside it."""
    return PurePosixPath(path).suffix.lower() in COMPRESSIBLE and not path.startswith(".")


def compress_file(source: Path, target: Path) -> Path:
    """Write source gzipped, naming its sha256 in FNAME, to a flushed, fsynced temporary file beside target
    (transaction.stage_with, the staged write of every published file; STAGED_SUFFIX: swept by the next publish)."""
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)

    def write(raw: BinaryIO) -> None:
        with source.open("rb") as handle:
            with gzip.GzipFile(filename=digest.hexdigest(), mode="wb", fileobj=raw, compresslevel=LEVEL, mtime=0) as gz:
                for chunk in iter(lambda: handle.read(CHUNK), b""):
                    gz.write(chunk)

    return stage_with(target, write, suffix=STAGED_SUFFIX)


def gzip_steps(
    out: Path, steps: list[list[str]], paths: list[str] | None = None, *, write: bool = True
) -> list[list[str]]:
    """The transaction's steps with a `.gz` step after each step on a compressible file.

    A rename of a staged file gets the rename of its staged `.gz`; a second name (the dated snapshot linked to
    latest.json) gets the same link between the `.gz` files; a delete deletes the `.gz` too. `paths` (every
    published path) also gets a `.gz` for a file left unchanged that has none yet (a folder published before
    this existed). On an error the `.gz` files staged so far are removed and the error raised.

    With `write` off (publish_gzip turned off) no `.gz` is written, and one left beside a file this publish
    changes is deleted with the same journal: nginx's gzip_static would otherwise send it for the newer file.
    """
    staged: list[Path] = []
    result: list[list[str]] = []
    touched = {step[-1] for step in steps}
    try:
        for step in steps:
            result.append(step)
            op, *names = step
            target = names[-1]
            if not wants_gzip(target):
                continue
            if not write:
                if op in ("rename", "link", "delete") and (out / (target + GZ)).is_file():
                    result.append(["delete", target + GZ])
                continue
            if op == "rename":
                tmp = compress_file(out / names[0], out / (target + GZ))
                staged.append(tmp)
                result.append(["rename", (PurePosixPath(target).parent / tmp.name).as_posix(), target + GZ])
            elif op == "link":
                result.append(["link", names[0] + GZ, target + GZ])
            elif op == "delete":
                result.append(["delete", target + GZ])
        for path in paths if write and paths else []:
            if path in touched or not wants_gzip(path) or (out / (path + GZ)).is_file() or not (out / path).is_file():
                continue
            tmp = compress_file(out / path, out / (path + GZ))
            staged.append(tmp)
            result.append(["rename", (PurePosixPath(path).parent / tmp.name).as_posix(), path + GZ])
    except BaseException:
        for tmp in staged:
            tmp.unlink(missing_ok=True)
        raise
    return result


def source_digest(gz: Path) -> str | None:
    """The sha256 (hex) a `.gz` written by compress_file names in its header; None for any other file."""
    try:
        with gz.open("rb") as handle:
            head = handle.read(_HEADER_MAX)
    except OSError:
        return None
    return digest_in_header(head)


def digest_in_header(head: bytes) -> str | None:
    """The FNAME of a gzip header when it is a sha256 in hex (the bytes from the start of the file)."""
    if len(head) < 10 or head[:3] != b"\x1f\x8b\x08" or not head[3] & 0x08 or head[3] & 0x04:
        return None  # not gzip, no FNAME, or an FEXTRA field before it (compress_file writes none)
    end = head.find(b"\x00", 10)
    name = head[10:end] if end > 0 else b""
    if len(name) != 64 or not all(c in b"0123456789abcdef" for c in name):
        return None
    return name.decode("ascii")


def read_gzip(data: bytes) -> bytes:
    """The uncompressed bytes of a `.gz` (for checks and tests)."""
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
        return gz.read()

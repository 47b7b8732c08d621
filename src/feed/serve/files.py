"""What the server sends for a file: its bytes from a cache bounded in bytes, or the open file to stream.

A file's ETag is the start of its sha256, computed once per version (path, mtime, size) by reading it in
chunks, and remembered in a table of `DIGESTS` entries. Small files (at most `stream_over` bytes) are kept in
memory, least recently used first out, never more than `limit` bytes in all; larger ones are never read whole:
they are streamed from disk (socket.sendfile), from the descriptor opened to answer, so a publish renaming a new
version over them mid-answer changes nothing in that answer.

gzip: a `.gz` beside the file that names the file's digest (feed.publish.precompressed, written at publish time)
is sent as it is; without one a small file is compressed once and cached like any other body; a large file
without one is sent uncompressed (compressing a 474 MB snapshot per cache miss took 9.7 s of a worker).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from feed.publish.precompressed import GZ, digest_in_header

CACHE_BYTES = 32 * 1024 * 1024
STREAM_OVER = 1024 * 1024
DIGESTS = 4096
CHUNK = 1 << 20
_GZ_HEAD = 80


@dataclass
class Representation:
    """One answer's body: bytes in memory, or an open file to stream `length` bytes of (the caller closes it)."""

    etag: str
    mtime: float
    length: int
    gzipped: bool
    data: bytes | None = None
    file: BinaryIO | None = None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class Representations:
    """Bodies and digests of the published files, bounded in bytes (see the module docstring)."""

    def __init__(self, limit: int = CACHE_BYTES, stream_over: int = STREAM_OVER) -> None:
        self.limit = limit
        self.stream_over = min(stream_over, limit)
        self._bodies: OrderedDict[tuple[str, int, int, bool], bytes] = OrderedDict()
        self._digests: OrderedDict[tuple[str, int, int], str] = OrderedDict()
        self._gz_names: OrderedDict[tuple[str, int, int], str | None] = OrderedDict()
        self.bytes = 0  # bytes of bodies held
        self._lock = threading.Lock()

    def get(self, path: Path, *, gzipped: bool) -> Representation:
        """The file as it is now (gzipped when asked and worth it); close() what it returns."""
        return self.cached(path, gzipped=gzipped) or self._read(path, gzipped=gzipped)

    def cached(self, path: Path, *, gzipped: bool) -> Representation | None:
        """The answer from memory alone when every part of it is there (two stats, no open): the common case."""
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        gz_key: tuple[str, int, int] | None = None
        if gzipped:
            gz_path = str(path) + GZ
            try:
                gz_stat = os.stat(gz_path)
                gz_key = (gz_path, gz_stat.st_mtime_ns, gz_stat.st_size)
            except OSError:
                pass
        with self._lock:
            tag = self._digests.get(key)
            if tag is None:
                return None
            if gzipped and gz_key is not None and (self._gz_names.get(gz_key) or "")[:32] == tag:
                data = self._bodies.get((*gz_key, False))
                if data is None:
                    return None
                self._bodies.move_to_end((*gz_key, False))
                return Representation(f'"{tag}-gzip"', stat.st_mtime, len(data), True, data=data)
            if gzipped and gz_key is None and stat.st_size <= self.stream_over:
                data = self._bodies.get((*key, True))
                if data is None:
                    return None
                self._bodies.move_to_end((*key, True))
                return Representation(f'"{tag}-gzip"', stat.st_mtime, len(data), True, data=data)
            if gzipped and stat.st_size <= self.stream_over:
                return None  # a .gz that names another version: the slow path decides
            data = self._bodies.get((*key, False))
            if data is None:
                return None
            self._bodies.move_to_end((*key, False))
            return Representation(f'"{tag}"', stat.st_mtime, len(data), False, data=data)

    def _read(self, path: Path, *, gzipped: bool) -> Representation:
        handle = path.open("rb")
        try:
            stat = os.fstat(handle.fileno())
            key = (str(path), stat.st_mtime_ns, stat.st_size)
            tag = self._digest(key, handle)
            if gzipped:
                zipped = self._gzipped(path, key, tag, handle)
                if zipped is not None:
                    handle.close()
                    return zipped
            if stat.st_size > self.stream_over:
                handle.seek(0)
                return Representation(f'"{tag}"', stat.st_mtime, stat.st_size, False, file=handle)
            data = self._body((*key, False), handle)
            handle.close()
            return Representation(f'"{tag}"', stat.st_mtime, len(data), False, data=data)
        except BaseException:
            handle.close()
            raise

    def _digest(self, key: tuple[str, int, int], handle: BinaryIO) -> str:
        with self._lock:
            tag = self._digests.get(key)
            if tag is not None:
                self._digests.move_to_end(key)
                return tag
        if key[2] <= self.stream_over:
            data = self._body((*key, False), handle)
            tag = hashlib.sha256(data).hexdigest()[:32]
        else:
            digest = hashlib.sha256()
            handle.seek(0)
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
            tag = digest.hexdigest()[:32]
        with self._lock:
            self._digests[key] = tag
            while len(self._digests) > DIGESTS:
                self._digests.popitem(last=False)
        return tag

    def _gzipped(self, path: Path, key: tuple[str, int, int], tag: str, handle: BinaryIO) -> Representation | None:
        etag = f'"{tag}-gzip"'
        gz_path = path.with_name(path.name + GZ)
        try:
            gz = gz_path.open("rb")
        except OSError:
            gz = None
        if gz is not None:
            try:
                gz_stat = os.fstat(gz.fileno())
                gz_key = (str(gz_path), gz_stat.st_mtime_ns, gz_stat.st_size)
                with self._lock:
                    known = gz_key in self._gz_names
                    named = self._gz_names.get(gz_key)
                if not known:
                    named = digest_in_header(gz.read(_GZ_HEAD))
                    with self._lock:
                        self._gz_names[gz_key] = named
                        while len(self._gz_names) > DIGESTS:
                            self._gz_names.popitem(last=False)
                if named is not None and named[:32] == tag:  # made from this very version
                    mtime = os.stat(path).st_mtime
                    if gz_stat.st_size > self.stream_over:
                        gz.seek(0)
                        return Representation(etag, mtime, gz_stat.st_size, True, file=gz)
                    data = self._body((*gz_key, False), gz)
                    gz.close()
                    return Representation(etag, mtime, len(data), True, data=data)
                gz.close()
            except BaseException:
                gz.close()
                raise
        if key[2] > self.stream_over:
            return None  # too big to compress per request: sent as it is
        body_key = (*key, True)
        with self._lock:
            packed = self._bodies.get(body_key)
            if packed is not None:
                self._bodies.move_to_end(body_key)
        if packed is None:
            packed = gzip.compress(self._body((*key, False), handle), compresslevel=6, mtime=0)
            self._keep(body_key, packed)
        return Representation(etag, os.fstat(handle.fileno()).st_mtime, len(packed), True, data=packed)

    def _body(self, key: tuple[str, int, int, bool], handle: BinaryIO) -> bytes:
        with self._lock:
            data = self._bodies.get(key)
            if data is not None:
                self._bodies.move_to_end(key)
                return data
        handle.seek(0)
        data = handle.read()
        self._keep(key, data)
        return data

    def _keep(self, key: tuple[str, int, int, bool], data: bytes) -> None:
        if len(data) > self.stream_over:
            return
        with self._lock:
            if key in self._bodies:
                return
            self._bodies[key] = data
            self.bytes += len(data)
            while self.bytes > self.limit:
                _, dropped = self._bodies.popitem(last=False)
                self.bytes -= len(dropped)

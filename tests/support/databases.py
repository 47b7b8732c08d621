"""The store's two engines for tests: a SQLite file, and PostgreSQL when a server is given.

`UNIONFEED_TEST_DATABASE_URL` names a PostgreSQL database the tests may write to (`.ci/run` starts one with
`.ci/postgres`; locally: `url=$(.ci/postgres start)`, then export it). Each test gets its own schema in that
database, named in the URL (`options=-csearch_path=...`), so a crawl child or a CLI given the URL writes where
the test reads, tests never see each other's rows, and the schema is dropped afterwards. Without the variable,
or with a server that does not answer, the PostgreSQL variant is skipped locally and fails under CI=true
(tests/support/needs.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from .needs import missing

POSTGRES_ENV = "UNIONFEED_TEST_DATABASE_URL"
ENGINES = ("sqlite", "postgresql")


def postgres_server() -> str:
    """The PostgreSQL URL tests may use, checked to answer; skip (fail under CI) when there is none."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        missing(f"{POSTGRES_ENV} is not set (start a server with .ci/postgres start and export its URL)")
    try:
        import psycopg  # noqa: F401  (the `postgres` extra)
    except ImportError:
        missing("psycopg is not installed (pip install -e '.[postgres]')")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach it is the reason reported
        missing(f"PostgreSQL at {POSTGRES_ENV} does not answer: {str(exc).splitlines()[0]}")
    finally:
        engine.dispose()
    return url


@contextmanager
def new_schema(base: str) -> Iterator[str]:
    """The URL of a fresh, empty schema of the server at `base`, dropped on leaving."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        joiner = "&" if "?" in base else "?"
        yield f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of a fresh, empty schema of the test server, dropped after the test."""
    with new_schema(postgres_server()) as url:
        yield url


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store's URL on each engine in turn: a new SQLite file, then a new PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))

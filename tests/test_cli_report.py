"""`unionfeed` says what happened: the crawl's per-source summary and exit codes, status's exit code, --version,
and one plain line instead of a traceback for a busy port, an unwritable data folder and a missing --data.

The crawls run as real processes (their exit status and whether stdout is a terminal are process-level): against
loopback sites and ports that refuse connections, once piped and once on a pseudo-terminal. The rest calls
`feed.app.cli.main` in this process on a real SQLite store, real sockets and a real read-only file system.
"""

from __future__ import annotations

import errno
import os
import pty
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from feed.app import crawl_report, plain_errors
from feed.app.cli import main
from feed.config.settings import load_settings
from feed.config.sources import load_sources
from feed.store.api import Store
from feed.store.faults import EXIT_STATUS

from .support.cli import run_cli
from .support.fault_sites import refused_port
from .support.loopback_sites import Site, serve, source_entry, write_config

REFUSED = "Connection was refused by other side: 111: Connection refused."


def down_entry(slug: str, port: int) -> str:
    """A source whose site refuses every connection."""
    return (
        f"  - slug: {slug}\n    name: 'Liên đoàn Lao động {slug}'\n    kind: labour_federation\n"
        f"    homepage: http://127.0.0.1:{port}/\n    discovery:\n      listings:\n"
        f"        - url: http://127.0.0.1:{port}/tin-tuc/\n"
    )


def cli_args(config: Path, data: Path, *args: str) -> list[str]:
    return ["--config", str(config), "--data", str(data), *args]


# --- crawl, as processes ----------------------------------------------------------------------------------
@pytest.mark.reliability("cli-every-site-down")
def test_a_crawl_with_every_site_down_says_so_in_one_line_per_source_and_exits_8(tmp_path: Path) -> None:
    with refused_port() as first, refused_port() as second:
        config = write_config(tmp_path / "config", [down_entry("ldld-mot", first), down_entry("ldld-hai", second)])
        result = run_cli(*cli_args(config, tmp_path / "data", "crawl"), timeout=120)
    assert result.returncode == crawl_report.ALL_FAILED_EXIT, result.stderr[-3000:]
    assert "Traceback" not in result.stderr + result.stdout
    assert "\x1b" not in result.stdout and "\r" not in result.stdout, "a progress line was drawn into a pipe"
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["ldld-mot", "ldld-hai"], result.stdout
    for line, port in zip(lines, (first, second), strict=True):
        assert "FAILED: the site refused the connection (http://127.0.0.1:" in line and f":{port}/" in line, line
        assert line.endswith("0 new, 0 updated, 0 pages refused, 1 error"), line
    assert result.stderr.splitlines() == ["all 2 sources failed: nothing was fetched"], result.stderr[-3000:]


@pytest.fixture
def half_down(tmp_path: Path) -> Iterator[tuple[Path, Path, Site]]:
    """A good union site (articles take a moment each, so a progress line gets drawn) beside one that is down."""
    site = Site("cd-tot", articles=4, delay=0.3)
    with ExitStack() as stack:
        port = stack.enter_context(refused_port())
        bases = stack.enter_context(serve([site]))
        config = write_config(
            tmp_path / "config", [source_entry(site.name, bases[site.name]), down_entry("cd-sap", port)]
        )
        yield config, tmp_path / "data", site


def run_on_terminal(args: list[str], timeout: float = 120) -> tuple[int, str, str]:
    """Run `unionfeed` with stdout on a pseudo-terminal (stderr piped); returns status, terminal text, stderr."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "feed.app.cli", *args], stdout=follower, stderr=subprocess.PIPE, text=False
    )
    os.close(follower)
    out = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], timeout)
        if not ready:
            proc.kill()
            pytest.fail("unionfeed crawl on a terminal did not finish")
        try:
            chunk = os.read(leader, 65536)
        except OSError as exc:  # EIO: the child closed the terminal
            if exc.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8")
    return proc.wait(timeout), out.decode("utf-8"), err


@pytest.mark.reliability("cli-every-site-down")
def test_some_sources_failing_exit_7_with_a_progress_line_on_a_terminal(
    half_down: tuple[Path, Path, Site],
) -> None:
    config, data, site = half_down
    status, screen, err = run_on_terminal(cli_args(config, data, "crawl"))
    assert status == crawl_report.SOME_FAILED_EXIT, err[-3000:]
    assert "\r\x1b[2Kcrawling: " in screen and "/2 sources done" in screen, screen[-2000:]
    # What stays on the screen: each line after the last "clear line" the progress thread drew on it.
    shown = [line.rsplit("\x1b[2K", 1)[-1].strip("\r") for line in screen.split("\n")]
    assert "cd-tot: ok — 4 new, 0 updated, 0 pages refused, 0 errors" in shown, shown
    assert any(line.startswith("cd-sap: FAILED: the site refused the connection") for line in shown), shown
    assert err.splitlines()[-1] == "2 sources crawled: 4 new, 0 updated articles; 1 failed: cd-sap", err[-3000:]
    assert "Traceback" not in err + screen
    assert len(site.hits) > 0


# --- the summary, in this process -------------------------------------------------------------------------
def test_each_source_line_reads_its_own_run_in_plain_words(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config",
        [down_entry("ldld-tinh", 9), down_entry("cd-nganh", 9), down_entry("cd-co-so", 9), down_entry("cd-cu", 9)],
    )
    sources = load_sources(config)
    store = Store(f"sqlite:///{tmp_path / 'unionfeed.sqlite'}")
    try:
        old = store.start_run("cd-cu")  # a run from before this crawl is not this crawl's
        store.finish_run(old, pages=3, new=3, updated=0, errors=0, finish_reason="finished", stats={"found": 3})
        previous = crawl_report.before(store)
        run = store.start_run("ldld-tinh")
        store.record_error("ldld-tinh", "http://127.0.0.1:9/tin-tuc/", REFUSED, run_id=run)
        failed = {"unionfeed/discovery_failed": 1}
        store.finish_run(run, pages=0, new=0, updated=0, errors=1, finish_reason="finished", stats=failed)
        run = store.start_run("cd-nganh")
        stats = {"found": 5, "unionfeed/not_article": 2, "unionfeed/not_article/category": 2, "extracted": 5}
        store.finish_run(run, pages=7, new=3, updated=2, errors=0, finish_reason="finished", stats=stats)
        run = store.start_run("cd-co-so")
        answered = {"downloader/response_status_count/503": 2, "unionfeed/discovery_failed": 1}
        store.finish_run(run, pages=0, new=0, updated=0, errors=0, finish_reason="finished", stats=answered)
        done = crawl_report.reports(store, sources, previous, time_limit=60, busy={"cd-ban": "pid 4242 on may-chu"})
    finally:
        store.close()
    assert [r.line() for r in done] == [
        "cd-ban: not crawled — it is being crawled by pid 4242 on may-chu",
        "ldld-tinh: FAILED: the site refused the connection (http://127.0.0.1:9/tin-tuc/)"
        " — 0 new, 0 updated, 0 pages refused, 1 error",
        "cd-nganh: ok — 3 new, 2 updated, 2 pages refused, 0 errors",
        "cd-co-so: FAILED: the site answered HTTP 503 — 0 new, 0 updated, 0 pages refused, 0 errors",
        "cd-cu: FAILED: the crawl recorded no run (see the log) — 0 new, 0 updated, 0 pages refused, 0 errors",
    ]
    assert crawl_report.exit_status(done) == crawl_report.SOME_FAILED_EXIT
    assert (
        crawl_report.last_line(done)
        == "4 sources crawled: 3 new, 2 updated articles; 3 failed: ldld-tinh, cd-co-so, cd-cu"
    )
    assert (
        crawl_report.exit_status(done[2:3]) == 0 and crawl_report.exit_status(done[3:]) == crawl_report.ALL_FAILED_EXIT
    )
    assert crawl_report.plain_error("DNS lookup failed: no results for hostname lookup: congdoan.invalid.") == (
        "the host name was not found (DNS)"
    )


# --- status ------------------------------------------------------------------------------------------------
def fail(store: Store, slug: str, times: int) -> None:
    for _ in range(times):
        run = store.start_run(slug)
        store.record_error(slug, "http://127.0.0.1:9/", REFUSED, run_id=run)
        stats = {"unionfeed/discovery_failed": 1}
        store.finish_run(run, pages=0, new=0, updated=0, errors=1, finish_reason="finished", stats=stats)


def test_status_exits_7_when_a_source_is_broken_and_8_when_all_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "config", [down_entry("ldld-ha-noi", 9), down_entry("cd-giao-duc", 9)])
    data = tmp_path / "data"
    data.mkdir()
    store = Store(load_settings(config, data).db_url)
    try:
        ok = store.start_run("cd-giao-duc")
        store.finish_run(ok, pages=2, new=2, updated=0, errors=0, finish_reason="finished", stats={"found": 2})
        assert main(cli_args(config, data, "status")) == 0
        fail(store, "ldld-ha-noi", 3)
        assert main(cli_args(config, data, "status")) == crawl_report.SOME_FAILED_EXIT
        assert "1 of 2 sources broken: ldld-ha-noi" in capsys.readouterr().out
        fail(store, "cd-giao-duc", 3)
    finally:
        store.close()
    assert main(cli_args(config, data, "status", "--json")) == crawl_report.ALL_FAILED_EXIT
    assert main(cli_args(config, data, "status")) == crawl_report.ALL_FAILED_EXIT
    assert "2 of 2 sources broken" in capsys.readouterr().out


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"unionfeed {version('unionfeed')}"


# --- one plain line -------------------------------------------------------------------------------------------
def last_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


@pytest.mark.reliability("cli-serve-port-busy")
def test_serve_on_a_busy_port_names_the_port_and_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--data", str(tmp_path), "serve", "--host", "127.0.0.1", "--port", str(port)]) == 9
    finally:
        taken.close()
    line = last_error_line(capsys)
    assert line.startswith(f"unionfeed serve: port {port} on 127.0.0.1 is already in use"), line
    assert "--port" in line


@pytest.mark.reliability("cli-serve-data-missing")
def test_serve_refuses_a_data_folder_that_does_not_exist_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mistyped = tmp_path / "du-lieu-cong-doan"
    assert main(["--data", str(mistyped), "serve", "--port", "0"]) == 2
    assert last_error_line(capsys).startswith(f"unionfeed serve: --data {mistyped} does not exist: nothing to serve")
    assert not mistyped.exists()


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    """A data folder this process cannot write: a read-only file system (root), or a folder without write
    permission (any other user)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("root without permission to mount: nothing makes a folder unwritable to root here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.reliability("cli-data-folder-unwritable")
def test_an_unwritable_data_folder_names_the_uid_and_the_fix(
    unwritable: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command = "status"
    config = write_config(tmp_path / "config", [down_entry("ldld-mau", 9)])
    data = unwritable / "data"
    assert main(cli_args(config, data, command)) == EXIT_STATUS
    line = last_error_line(capsys)
    assert line.startswith(f"unionfeed {command}: cannot write {data}"), line
    assert f"uid {os.getuid()}" in line and "point --data elsewhere" in line, line
    assert ("mount it read-write" if os.geteuid() == 0 else f"chown -R {os.getuid()}:") in line, line
    denied = plain_errors.data_folder_problem(PermissionError(errno.EACCES, "Permission denied", "/data/x"), None)
    assert denied is not None and "permission denied" in denied and f"uid {plain_errors.IMAGE_UID}" in denied

"""Wall and CPU time of some tests: the test process and every child it waited for (crawl children, CLI runs).

    PYTHONPATH=src:scrapers .venv/bin/python bench/testtime.py tests/test_x.py[::test_y] [pytest options]

On the shared machine wall time measures the load as much as the tests; CPU time says whether a slow test is
busy or waiting (politeness delays, timeouts, sleeps).
"""

from __future__ import annotations

import resource
import sys
import time

import pytest


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    code = int(pytest.main(["-q", "-p", "no:cacheprovider", *argv]))
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    print(f"exit {code}: wall {time.perf_counter() - started:.1f} s, CPU (self and children) {cpu:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

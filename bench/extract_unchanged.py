"""Same output: every page of our sets extracted and judged by another checkout and by this one, field by field.

    PYTHONPATH=src:scrapers .venv/bin/python bench/extract_unchanged.py --before /tmp/main-copy

(`mkdir /tmp/main-copy && git archive main | tar -x -C /tmp/main-copy` makes the other checkout.) The pages: the
181 AEB pages, every ../shared/realpages file (generic, and with the selectors of bench/truth/realpages.json), the
../shared/seeds texts as pages (and as they are), the first 150 texts of ../shared/labeled/dev.jsonl as pages, the
test fixtures (as web pages and as saved files), 60 pages of bench/crawl.py's site, a few hostile inputs, and
some of these again under site selectors that match and that miss. Each is extracted from its bytes (AEB and real
pages also from text) and judged four ways (no site facts, a site's facts, vouched, a declared charset). Each
checkout runs in its own interpreter; every field of every record and every verdict is compared. Exit 1 when one
differs. Not a speed figure: a before/after check for changes meant to keep the output.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import importlib.util
import json
import os
import pickle
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = (
    b"",
    b"   ",
    b"<!-- x -->",
    b"\x00\x01\x02" * 500,
    "<html><body><h1>Tiêu đề thử nghiệm dài</h1><p>Há»™i nghá»‹ cÃ´ng Ä‘oÃ n</p></body></html>".encode(),
    b"<div>" * 400 + "chữ".encode() + b"</div>" * 400,
    ("<p>" + "chữ " * 200_000 + "</p>").encode(),
)


def pages(shared: Path) -> list[tuple[str, bytes, str, Any]]:
    """(name, bytes, url, selectors or None) of every page compared."""
    from feed.app.crawl_warmup import warm_page
    from feed.config.sources import Selectors

    found: list[tuple[str, bytes, str, Any]] = []
    truth = json.loads((shared / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for key in sorted(truth):
        data = gzip.decompress((shared / "aeb" / "html" / f"{key}.html.gz").read_bytes())
        found.append((f"aeb/{key}", data, truth[key].get("url") or "http://example.com/", None))
    manifest = json.loads((shared / "realpages" / "manifest.json").read_text(encoding="utf-8"))
    real_truth = json.loads((ROOT / "bench" / "truth" / "realpages.json").read_text(encoding="utf-8"))
    selectors = {e["file"]: e["selectors"] for e in real_truth["pages"] if e.get("selectors")}
    for item in manifest:
        data = (shared / "realpages" / item["file"]).read_bytes()
        url = item.get("url") or f"http://{item['domain']}/"
        found.append((f"real/{item['file']}", data, url, None))
        if item["file"] in selectors:
            found.append((f"realsel/{item['file']}", data, url, Selectors(**selectors[item["file"]])))
    for path in sorted((shared / "seeds").glob("*.txt")):
        lines = path.read_text(encoding="utf-8").split("\n")
        body = "".join(
            f"<p>{line}</p>" if i % 3 else f"<div>{line}</div><br>{line[:30]}"
            for i, line in enumerate(lines[1:])
            if line.strip()
        )
        url = f"http://127.0.0.1/tin/{path.stem}.html"
        found.append((f"seed/{path.name}", warm_page(lines[0], body).encode(), url, None))
        found.append((f"seedraw/{path.name}", path.read_bytes(), url, None))
    with (shared / "labeled" / "dev.jsonl").open(encoding="utf-8") as labeled:
        for index, line in enumerate(labeled):
            if index >= 150:
                break
            item = json.loads(line)
            body = "".join(f"<p>{p}</p>" for p in item.get("text", "").split("\n"))
            page = warm_page(item.get("headline") or "", body).encode()
            found.append((f"labeled/{item['id']}", page, item.get("url") or "http://x/", None))
    for file in sorted(glob.glob(str(ROOT / "tests" / "fixtures" / "**" / "*.html"), recursive=True)):
        name, data = file.split("fixtures/")[1], Path(file).read_bytes()
        found.append((f"fix/{name}", data, f"https://congdoannghean.example/{Path(file).name}", None))
        found.append((f"fixfile/{name}", data, f"file://{file}", None))
    spec = importlib.util.spec_from_file_location("crawl_bench", ROOT / "bench" / "crawl.py")
    assert spec is not None and spec.loader is not None
    crawl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(crawl)
    for n in range(1, 61):
        found.append((f"crawl/{n}", crawl.article_page(n), f"http://127.0.0.1:8000/tin-tuc/bai-{n}.html", None))
    for index, data in enumerate(HOSTILE):
        found.append((f"hostile/{index}", data, "http://127.0.0.1/a.html", None))
    variants = (
        Selectors(title="h1", body=".content, article", published=".date", author=".author", lead=".sapo"),
        Selectors(title=".nope", body=".nope"),
    )
    for name, data, url, _ in list(found):
        if name.startswith(("crawl/1", "real/", "fix/")):
            found.extend((f"sel{j}/{name}", data, url, rules) for j, rules in enumerate(variants))
    return found


def dump(shared: Path, out: Path) -> None:
    """Extract and judge every page with the `feed` on sys.path; pickle the reprs."""
    import feed.extract.judge as judge
    from feed.extract.article import extract

    fetched = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    sites = (
        judge.SiteFacts(),
        judge.SiteFacts(homepage="https://congdoannghean.example/", names=("Liên đoàn Lao động tỉnh Nghệ An",)),
        judge.SiteFacts(vouched=True),
    )
    results = {}
    for name, data, url, rules in pages(shared):
        article = extract(data, url, selectors=rules, fetched_at=fetched)
        as_text = None
        if name.startswith(("aeb/", "real/")):
            as_text = extract(data.decode("utf-8", "replace"), url, selectors=rules, fetched_at=fetched)
        verdicts = [judge.judge_page(data, article, site) for site in sites]
        verdicts.append(judge.judge_page(data, article, sites[0], encoding="utf-8"))
        results[name] = (repr(article), repr(as_text), [repr(v) for v in verdicts])
    out.write_bytes(pickle.dumps(results))


def run(checkout: Path, shared: Path, out: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": f"{checkout / 'src'}{os.pathsep}{checkout / 'scrapers'}"}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(shared), str(out)]
    subprocess.run(command, env=env, check=True)
    loaded: dict[str, Any] = pickle.loads(out.read_bytes())
    return loaded


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        dump(Path(argv[1]), Path(argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the root of the other checkout")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        before = run(args.before.resolve(), args.shared, Path(tmp) / "before.pickle")
        after = run(ROOT, args.shared, Path(tmp) / "after.pickle")
    differ = sorted(name for name in before if before[name] != after.get(name))
    for name in differ[:10]:
        now = after.get(name) or ("(missing)", "(missing)", "(missing)")
        for old, new, what in zip(before[name], now, ("extract(bytes)", "extract(text)", "verdicts"), strict=True):
            if old != new:
                print(f"{name} {what}\n  before: {str(old)[:800]}\n  after:  {str(new)[:800]}")
    same = len(before) - len(differ)
    print(f"{len(before)} pages: {same} identical in every field and verdict, {len(differ)} differ")
    return 1 if differ or before.keys() != after.keys() else 0


if __name__ == "__main__":
    raise SystemExit(main())

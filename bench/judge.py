"""The article judge measured: real and sample article pages it must keep, non-article pages it must refuse.

    python bench/judge.py            # every set; --verbose lists each page with its verdict

Articles (each must be kept): tests/fixtures/pages, the profile fixtures, the demo sites' article pages,
../shared/realpages (the manifest's article pages), ../shared/aeb (181 pages, each an article). Non-articles (each
must be refused): tests/fixtures/nonarticles (written pages: portal home, section, about, contact, tag, search,
login), the demo sites' home and listing pages, ../shared/realpages' home pages. Every page is judged twice: as the
crawl sees it (with its URL and site names) and by the page alone (no URL, no site facts), so the figures do not
lean on the URL. A source with an article_pattern vouches for its URLs (the crawl then never refuses for a missing
date or short text); the bench judges every page as if no pattern vouched for it, the strict case.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from feed.extract.article import extract
from feed.extract.judge import Judgement, SiteFacts, judge_page

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEMO = ROOT / "src" / "feed" / "app" / "demo_sites"
NONARTICLES = ROOT / "tests" / "fixtures" / "nonarticles"
DEMO_NAMES = {
    "ldld-demo": "Liên đoàn Lao động tỉnh Thanh Hóa",
    "baotinh-demo": "Báo Thanh Hóa điện tử",
    "cdnganh-demo": "Công đoàn Y tế Việt Nam",
}
# The demo sites' pages that are not articles (home pages, listings, an about page).
DEMO_NONARTICLES = (
    "ldld-demo/index.html",
    "ldld-demo/tin-tuc/index.html",
    "ldld-demo/tin-tuc/trang-2.html",
    "baotinh-demo/index.html",
    "baotinh-demo/cong-doan/index.html",
    "cdnganh-demo/index.html",
    "cdnganh-demo/gioi-thieu/index.html",
)


@dataclass
class Page:
    set: str
    name: str
    data: bytes
    url: str
    site: SiteFacts
    article: bool  # the truth: an article page


def demo_url(relative: str) -> str:
    site, _, path = relative.partition("/")
    path = "/" + path.removesuffix("index.html")
    return f"http://{site}.example/{path.lstrip('/')}"


def pages() -> list[Page]:
    out: list[Page] = []
    for path in sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.html")):
        out.append(
            Page(
                "fixtures",
                path.name,
                path.read_bytes(),
                f"https://fixture.example/{path.stem}-1.html",
                SiteFacts(),
                True,
            )
        )
    for path in sorted((ROOT / "tests" / "fixtures" / "profiles").glob("*/*.html")):
        name = f"{path.parent.name}/{path.name}"
        out.append(
            Page("fixtures", name, path.read_bytes(), f"https://fixture.example/{path.stem}-1.html", SiteFacts(), True)
        )
    expected = json.loads((DEMO / "expected.json").read_text(encoding="utf-8"))
    for slug, articles in expected.items():
        site = SiteFacts(homepage=f"http://{slug}.example/", names=(DEMO_NAMES[slug],))
        for path, truth in articles.items():
            if truth.get("broken"):
                continue  # the cut-off page: an extraction error, not a judgement
            file = DEMO / slug / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
            out.append(Page("demo", slug + path, file.read_bytes(), demo_url(f"{slug}{path}"), site, True))
    for relative in DEMO_NONARTICLES:
        slug = relative.split("/", 1)[0]
        site = SiteFacts(homepage=f"http://{slug}.example/", names=(DEMO_NAMES[slug],))
        out.append(Page("demo", relative, (DEMO / relative).read_bytes(), demo_url(relative), site, False))
    manifest = json.loads((NONARTICLES / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["pages"]:
        site = SiteFacts(homepage=manifest["homepage"], names=(manifest["name"],))
        data = (NONARTICLES / entry["file"]).read_bytes()
        out.append(Page("written", entry["file"], data, entry["url"], site, False))
    if (SHARED / "realpages").is_dir():
        for entry in json.loads((SHARED / "realpages" / "manifest.json").read_text(encoding="utf-8")):
            if entry["type"] == "rss":
                continue
            data = (SHARED / "realpages" / entry["file"]).read_bytes()
            url = entry["url"] or f"http://{entry['domain']}/{entry['file']}"
            home = f"http://{entry['domain']}/"
            out.append(
                Page("realpages", entry["file"], data, url, SiteFacts(homepage=home), entry["type"] == "article")
            )
    if (SHARED / "aeb").is_dir():
        truth = json.loads((SHARED / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
        for key, value in sorted(truth.items()):
            data = gzip.decompress((SHARED / "aeb" / "html" / f"{key}.html.gz").read_bytes())
            out.append(Page("aeb", key[:12], data, value["url"], SiteFacts(), True))
    return out


def verdicts(page: Page) -> tuple[Judgement, Judgement, str | None]:
    crawled = extract(page.data, page.url)
    alone = extract(page.data, f"file:{page.name}")
    return judge_page(page.data, crawled, page.site), judge_page(page.data, alone), crawled.error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not (SHARED / "realpages").is_dir() or not (SHARED / "aeb").is_dir():
        print("../shared/realpages or ../shared/aeb is absent: their rows are left out", file=sys.stderr)
    rows: dict[tuple[str, bool], Counter[str]] = {}
    reasons: Counter[str] = Counter()
    for page in pages():
        crawled, alone, error = verdicts(page)
        counts = rows.setdefault((page.set, page.article), Counter())
        counts["pages"] += 1
        counts["errors"] += error is not None
        for mode, verdict in (("crawl", crawled), ("alone", alone)):
            # A non-article that extraction could not read is an error, not stored: not "kept".
            wrong = not verdict.is_article if page.article else verdict.is_article and error is None
            counts[f"wrong_{mode}"] += wrong
            if not verdict.is_article:
                reasons[f"{mode}:{verdict.reason}"] += 1
        if args.verbose or (crawled.is_article != page.article) or (alone.is_article != page.article):
            mark = "ok " if crawled.is_article == page.article and alone.is_article == page.article else "BAD"
            print(f"{mark} {page.set:9} {'article' if page.article else 'non-art'} {page.name[:60]:60} "
                  f"crawl={crawled.reason or 'article'} alone={alone.reason or 'article'}"
                  + (f" (extraction error: {error})" if error else ""))  # fmt: skip
    print()
    print(f"{'set':10} {'truth':12} {'pages':>5} {'extract err':>11} {'wrong (crawl)':>13} {'wrong (page alone)':>18}")
    for (name, article), counts in sorted(rows.items()):
        print(
            f"{name:10} {'article' if article else 'non-article':12} {counts['pages']:5} {counts['errors']:11} "
            f"{counts['wrong_crawl']:13} {counts['wrong_alone']:18}"
        )
    articles = [c for (_, a), c in rows.items() if a]
    others = [c for (_, a), c in rows.items() if not a]
    for mode in ("crawl", "alone"):
        refused = sum(c[f"wrong_{mode}"] for c in articles)
        kept = sum(c[f"wrong_{mode}"] for c in others)
        print(
            f"{mode:5}: articles wrongly refused {refused}/{sum(c['pages'] for c in articles)}, "
            f"non-articles wrongly kept {kept}/{sum(c['pages'] for c in others)}"
        )
    print("reasons:", ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

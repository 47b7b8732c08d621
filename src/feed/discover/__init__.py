"""Discovery from a homepage alone: what a site offers to be watched, found in pages already fetched.

A source entry may give only its `homepage:`. This box reads fetched text (a homepage, robots.txt, a probed feed or
sitemap, a section page) and says what is there: feeds named in `<link rel="alternate">`, conventional feed and
sitemap paths worth one request each, sitemaps named in robots.txt, listing sections (same-host pages that are
lists of article links), and the URL shape the site's articles share (`shapes.learn_article_pattern`).

Why a box of its own in the library rather than a module of the Scrapy project: it is pure and network-free (text
in, findings out; no Scrapy, no store, no sockets, checked by an import contract in pyproject.toml), so the spider
(`unionfeed_scrapers.homepage`, which does every fetch through Scrapy: the source boundary, the cookie gate,
robots.txt and politeness) and a command that proposes a sources.yaml entry from a URL (`summarize`) share one
reading of a site. It sits beside `extract` in the layers: it may use `lang` and `config`, and nothing above.

- `links`: a page's links, with those inside navigation blocks (nav, header, footer, menus, breadcrumbs) marked;
- `shapes`: the dominant family of article URLs among a listing's links, as a compiled pattern and a confidence;
- `found`: feeds, sitemaps, probes, section candidates, and `Summary`, what was found for one source.
"""

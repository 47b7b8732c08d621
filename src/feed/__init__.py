"""unionfeed: a monitoring feed of Vietnamese trade-union news.

One sub-package per box of the data flow (docs/architecture.md): records, config, lang ▸ extract ▸ store ▸
classify, dedup ▸ ingest ▸ health ▸ publish ▸ serve ▸ app. Imports run that way only (import-linter
contracts in pyproject.toml).
"""

__version__ = "0.1.0"

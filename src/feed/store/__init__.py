"""The store: the Store API (feed.store.api) over SQLAlchemy (SQLite by default, any SQLAlchemy URL) and
the one schema module (feed.store.schema) holding every table.

May import: feed.config, feed.lang, feed.records. No consumer (extract, classify, dedup, ingest, publish,
health, serve, app, the Scrapy project).
"""

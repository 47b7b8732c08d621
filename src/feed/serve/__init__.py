"""Serving the published folder over HTTP (ETag/Last-Modified/304, gzip, the change-file endpoint).

May import only what it serves: feed.publish.changes (the change files' reader) and the standard library; for query
feeds (feed.serve.query only), feed.publish.query_feeds and the store's read-only search (feed.store.search). No
Store API, no Scrapy.
"""

"""Serving the published folder over HTTP (ETag/Last-Modified/304, gzip, the change-file endpoint).

May import only what it serves: feed.publish.changes (the change files' reader) and the standard library;
no store, no SQLAlchemy, no Scrapy.
"""

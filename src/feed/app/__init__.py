"""The application: the `unionfeed` command, the scheduler, the crawl runner (the only importer of the Scrapy
project), sources check, the demo and its sample sites, logs, the console, and every outgoing request that
is not a crawl (the HTTP client, WebSub).

May import everything below it.
"""

"""Publishing: rows read from the store, stories and their stable GUIDs, Atom/RSS/JSON Feed documents,
snapshots and change files, OPML, the index page, status files, all written by one publish transaction.

May import: feed.health and below. Never the network (WebSub pings go out from the app, after publish),
never serve or the app.
"""

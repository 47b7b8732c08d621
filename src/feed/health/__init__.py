"""Source health: the one verdict per source (judged against its own history) and its events (breakages
and recoveries). The status files that show it are written by feed.publish.

May import: feed.store, feed.config and below.
"""

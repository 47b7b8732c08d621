"""Cross-site deduplication: fingerprints (shingles, MinHash, evidence), the near-duplicate index and the
clusters (one canonical member per story).

May import: feed.store, feed.extract (credit lines) and below.
"""

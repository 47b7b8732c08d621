"""Configuration: run-time settings, the sources registry (sources.yaml read with line numbers), cron lines
and the CMS profiles (profiles.yaml).

Owns: what an operator writes and how it is checked. May import: feed.lang, feed.records.
"""

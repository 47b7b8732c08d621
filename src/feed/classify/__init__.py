"""Classification: is an article a report of a meeting that took place, which kind, and its facts
(organiser, period, when and where, who attended). The cue grammar lives in cues.yaml.

May import: feed.store and below. evaluate.py holds the scoring rules the bench and the gate share.
"""

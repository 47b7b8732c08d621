"""Classification: is an article a report of a meeting that took place, which kind, and its facts
(organiser, period, when and where, who attended). The cue grammar lives in cues.yaml; the learned model that
decides (features.py, model.py, the shipped meeting_model.json) is rebuilt by train.py from corpus/meetings.

May import: feed.store and below. train.py alone imports scikit-learn (the `train` extra); inference needs only
the standard library. evaluate.py holds the scoring rules the bench and the gate share.
"""

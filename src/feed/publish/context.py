"""What a publish step may read: the store, the settings, the sources, this run's entries and the sources' health."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from feed.config.settings import Settings
from feed.config.sources import Source
from feed.health.verdict import SourceHealth
from feed.publish.entries import Stories
from feed.publish.feed_writer import FeedSpec
from feed.store.api import Store


@dataclass
class PublishContext:
    """One publish run's inputs; `health` is feed.health.verdict's judgement of each source, by slug."""

    store: Store
    settings: Settings
    sources: list[Source]
    out: Path
    generated_at: datetime
    stories: Stories
    specs: list[FeedSpec] = field(default_factory=list)
    health: dict[str, SourceHealth] = field(default_factory=dict)

"""The source registry: `config/sources.yaml` and CMS profiles, validated when they load."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from feed.config.yaml_lines import RawDocument, RawEntry, document_from, read_document

# Exit status of a command that did its work but skipped entries of the sources file (see docs/sources.md).
SKIPPED_ENTRIES_EXIT = 3
# A slug names files (feeds/sources/<slug>.atom) and URLs: bounded, and matched whole with fullmatch (a `$` would
# let "nl\n" through, since `$` matches before a trailing newline).
SLUG_MAX = 64
SLUG = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{SLUG_MAX - 1}}}")
PROFILE_NAME = re.compile(r"[a-z0-9_]+")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the entry and the field."""


class SourceKind(StrEnum):
    LABOUR_FEDERATION = "labour_federation"
    SECTOR_UNION = "sector_union"
    UNION_PORTAL = "union_portal"
    MINISTRY = "ministry"
    ACADEMY = "academy"
    NATIONAL_PAPER = "national_paper"
    PROVINCIAL_PAPER = "provincial_paper"
    ENTERPRISE_UNION = "enterprise_union"
    OTHER = "other"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_http_url(value: str) -> str:
    # Only http(s): a config line must never make the crawler read files or talk other protocols.
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s/?#\x00-\x1f\x7f]+[^\s\x00-\x1f\x7f]*", value):
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


# The checks below are pure and the same values recur across entries (a CMS's selectors, a few crontab lines), so
# each distinct value is checked once per process: 5,000 sources load in well under a second (bench/config_load.py).
def _check_regex(value: str | None) -> str | None:
    if value is not None:
        _regex_ok(value)
    return value


@lru_cache(maxsize=4096)
def _regex_ok(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc


def _check_css(value: str | None) -> str | None:
    if value is not None:
        _css_ok(value)
    return value


@lru_cache(maxsize=4096)
def _css_ok(value: str) -> None:
    from parsel.csstranslator import HTMLTranslator

    try:
        HTMLTranslator().css_to_xpath(value)
    except Exception as exc:  # cssselect raises several unrelated types
        raise ValueError(f"not a valid CSS selector {value!r}: {exc}") from exc


MIN_POLL_GAP_MINUTES = 5  # the same floor as `interval`: no source is polled more often than this


def _check_cron(value: str | None) -> str | None:
    """A five-field crontab line (Vietnam time) whose polls are at least MIN_POLL_GAP_MINUTES apart."""
    if value is not None:
        _cron_ok(value)
    return value


@lru_cache(maxsize=1024)
def _cron_ok(value: str) -> None:
    from datetime import datetime, timedelta
    from itertools import pairwise

    from feed.config.cron import cron_trigger, fire_times

    try:
        trigger = cron_trigger(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a crontab line (minute hour day month weekday) {value!r}: {exc}") from exc
    fires = fire_times(trigger, datetime(2026, 1, 1, tzinfo=trigger.timezone), 50)
    if not fires:
        raise ValueError(f"crontab line {value!r} never fires")
    if any(b - a < timedelta(minutes=MIN_POLL_GAP_MINUTES) for a, b in pairwise(fires)):
        raise ValueError(f"crontab line {value!r} polls more often than every {MIN_POLL_GAP_MINUTES} minutes")


class Selectors(Strict):
    title: str | None = None
    published: str | None = None
    author: str | None = None
    lead: str | None = None
    body: str | None = None
    remove: tuple[str, ...] = ()

    _css = field_validator("title", "published", "author", "lead", "body")(_check_css)

    @field_validator("remove")
    @classmethod
    def _css_list(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            _check_css(item)
        return value

    def merged_over(self, base: Selectors | None) -> Selectors:
        """These selectors, with fields left empty taken from base (a profile)."""
        if base is None:
            return self
        data = base.model_dump()
        for key, value in self.model_dump().items():
            if key == "remove":
                data[key] = tuple(dict.fromkeys((*base.remove, *value)))
            elif value is not None:
                data[key] = value
        return Selectors(**data)


class Listing(Strict):
    url: str
    links: str | None = None
    next: str | None = None
    max_pages: int = Field(default=3, ge=1, le=50)

    _url = field_validator("url")(_check_http_url)
    _css = field_validator("links", "next")(_check_css)


class Discovery(Strict):
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    listings: tuple[Listing, ...] = ()
    article_pattern: str | None = None

    _pattern = field_validator("article_pattern")(_check_regex)

    @field_validator("feeds", "sitemaps")
    @classmethod
    def _urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            _check_http_url(item)
        return value

    @property
    def configured(self) -> bool:
        """True when the entry names where to look; else the crawl discovers feeds, sitemaps and sections itself
        from the homepage (a homepage is enough)."""
        return bool(self.feeds or self.sitemaps or self.listings)


class Verified(Strict):
    urls: bool = False
    markup: bool = False
    note: str = ""


class Profile(Strict):
    description: str = ""
    selectors: Selectors = Selectors()
    listing: dict[str, str] = Field(default_factory=dict)

    @field_validator("listing")
    @classmethod
    def _listing_keys(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value) - {"links", "next"}
        if unknown:
            raise ValueError(f"unknown listing keys: {sorted(unknown)}")
        for item in value.values():
            _check_css(item)
        return value


class Source(Strict):
    slug: str
    name: str = Field(min_length=1)
    kind: SourceKind
    province: str | None = None
    homepage: str
    profile: str | None = None
    discovery: Discovery = Discovery()
    selectors: Selectors = Selectors()
    interval: int = Field(default=60, ge=5, le=10080)
    cron: str | None = None  # a crontab line in Vietnam time; when given it replaces interval
    enabled: bool = True
    verified: Verified = Verified()
    # How its listing and article pages are fetched: plain HTTP, or rendered by a headless Chromium for sites that
    # build their pages with JavaScript (the optional extra `browser`; see unionfeed_scrapers.browser).
    render: Literal["http", "browser"] = "http"

    _homepage = field_validator("homepage")(_check_http_url)
    _cron = field_validator("cron")(_check_cron)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if len(value) > SLUG_MAX:
            raise ValueError(f"slug is {len(value)} characters long; at most {SLUG_MAX} are allowed")
        if not SLUG.fullmatch(value):
            raise ValueError(
                "slug must be lower-case letters, digits and hyphens, starting with a letter or digit"
                f" (no spaces, newlines or control characters): {shown_slug(value)}"
            )
        return value

    def effective_selectors(self) -> Selectors:
        """The source's own selectors over those of its profile."""
        return self.selectors.merged_over(get_profile(self.profile).selectors if self.profile else None)

    def listing_rule(self, listing: Listing) -> tuple[str, str | None]:
        """The link selector and next-page selector for a listing, with profile defaults."""
        defaults = get_profile(self.profile).listing if self.profile else {}
        return listing.links or defaults.get("links") or "a", listing.next or defaults.get("next")


def shown_slug(slug: str) -> str:
    """A slug as a one-line message may show it: as written when valid, else quoted, escaped and shortened."""
    if SLUG.fullmatch(slug):
        return slug
    return repr(slug[:40]) + (f"… ({len(slug)} characters)" if len(slug) > 40 else "")


@dataclass(frozen=True)
class ConfigProblem:
    """One mistake in a config file: where it is (file, line, entry and field) and what is wrong."""

    path: str
    message: str
    entry: int | None = None  # the entry's position in the sources list, from 1
    slug: str | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        named = f" ({shown_slug(self.slug)})" if self.slug else ""
        who = f" source #{self.entry}{named}:" if self.entry else ""
        what = f" field {self.field}:" if self.field else ""
        return f"{where}:{who}{what} {self.message}"


def _validation_problems(path: str, entry: RawEntry, slug: str | None, exc: ValidationError) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        problems.append(
            ConfigProblem(
                path,
                err["msg"].removeprefix("Value error, "),
                entry.number,
                slug,
                ".".join(str(p) for p in loc) or "(entry)",
                entry.line_of(loc),
            )
        )
    return problems


def _format_error(path: Path | str, entry: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(entry)"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {entry}: field {field}: {msg}")
    return "\n".join(lines)


def _defaults(doc: RawDocument, path: str) -> tuple[dict[str, Any] | None, list[ConfigProblem]]:
    """The document's defaults (None when unusable: they apply to every entry) and its top-level problems."""
    problems = [ConfigProblem(path, note.message, line=note.line) for note in doc.notes]
    unknown = set(doc.top) - {"version", "defaults"}
    if unknown:
        problems.append(ConfigProblem(path, f"unknown top-level keys: {sorted(unknown)}"))
    defaults = doc.top.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - {"interval", "enabled"}:
        problems.append(ConfigProblem(path, "'defaults' may set only interval and enabled"))
        return None, problems
    return defaults, problems


def check_document(doc: RawDocument, path: Path | str) -> tuple[list[Source], list[ConfigProblem]]:
    """The usable sources of a document and every problem found; a bad entry costs only itself.

    A slug belongs to the first entry that names it, even a broken one: a later copy is reported, never run in
    its place (its pages would be filed under another site's name).
    """
    where = str(path)
    if doc.fatal is not None:
        return [], [ConfigProblem(where, doc.fatal.message, line=doc.fatal.line)]
    defaults, problems = _defaults(doc, where)
    if defaults is None:
        return [], problems
    sources: list[Source] = []
    claimed: dict[str, int] = {}
    for entry in doc.entries:
        found = _check_entry(entry, defaults, claimed, where)
        if isinstance(found, Source):
            sources.append(found)
        else:
            problems.extend(found)
    return sources, problems


def _check_entry(
    entry: RawEntry, defaults: dict[str, Any], claimed: dict[str, int], path: str
) -> Source | list[ConfigProblem]:
    slug = entry.slug()
    first = claimed.setdefault(slug, entry.number) if slug else entry.number

    def problem(message: str, field: str | None = None, line: int | None = None) -> list[ConfigProblem]:
        return [ConfigProblem(path, message, entry.number, slug, field, line or entry.first_line)]

    if entry.error is not None:
        return problem(entry.error.message, line=entry.error.line)
    if not isinstance(entry.data, dict):
        return problem(f"expected a mapping, got {type(entry.data).__name__}")
    if first != entry.number:
        return problem(f"duplicate of source #{first}", "slug", entry.line_of(("slug",)))
    repeated = entry.repeated_keys()
    if repeated:
        return [p for key, a, b in repeated for p in problem(f"written twice (lines {a} and {b})", key, b)]
    profile = entry.data.get("profile")
    unknown: list[ConfigProblem] = []
    if isinstance(profile, str) and profile not in load_profiles():
        unknown = problem(
            f"unknown profile {profile!r} (known: {', '.join(sorted(load_profiles()))})",
            "profile",
            entry.line_of(("profile",)),
        )
    try:
        source = Source.model_validate({**defaults, **entry.data})
    except ValidationError as exc:
        return _validation_problems(path, entry, slug, exc) + unknown
    return unknown or source


def _raise_problems(problems: list[ConfigProblem]) -> None:
    if problems:
        raise ConfigError("\n".join(str(p) for p in problems))


def parse_sources(data: Any, path: Path | str = "<sources>") -> list[Source]:
    """Validate a parsed sources document; raise ConfigError naming the file, entry and field of every mistake."""
    sources, problems = check_document(document_from(data), path)
    _raise_problems(problems)
    return sources


def read_sources(path: Path | str) -> tuple[list[Source], list[ConfigProblem]]:
    """Every usable source of a sources file and the problems of the rest: for commands that do work.

    A broken entry (bad YAML, a bad field, a duplicate slug, an unknown profile) is skipped and reported;
    a file that cannot be read, or whose top level is broken, gives no sources and one problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], [ConfigProblem(str(path), "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [ConfigProblem(str(path), f"cannot be read: {exc}")]
    key = (str(path), hashlib.sha256(text.encode("utf-8")).digest())
    with _parsed_lock:
        found = _parsed.get(key)
    if found is None:
        found = check_document(read_document(text), path)
        with _parsed_lock:
            _parsed[key] = found
            while len(_parsed) > _PARSED_KEPT:
                del _parsed[next(iter(_parsed))]
    return list(found[0]), list(found[1])


# The file is read at every call (so a change is seen at once), but parsed and validated only when its text
# differs from the last time: a scheduler asks at every poll and after every crawl. Sources and problems are
# frozen; callers get fresh lists.
_PARSED_KEPT = 8
_parsed: dict[tuple[str, bytes], tuple[list[Source], list[ConfigProblem]]] = {}
_parsed_lock = threading.Lock()


def load_sources(path: Path | str) -> list[Source]:
    """Load and validate a sources file strictly: ConfigError listing every problem when there is one."""
    sources, problems = read_sources(path)
    _raise_problems(problems)
    return sources


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


@dataclass(frozen=True)
class Choice:
    """The sources some slugs name: those that can run, and the slugs that name nothing that can."""

    sources: list[Source]
    broken: list[str]  # named, but their entry has problems (skipped, and told)
    unknown: list[str]  # named, but in no entry of the file

    @property
    def missing(self) -> list[str]:
        return [*self.broken, *self.unknown]


def choose(sources: list[Source], slugs: Sequence[str], problems: Sequence[ConfigProblem] = ()) -> Choice:
    """The one way slugs become sources: those named (every enabled one when none are), in the order named."""
    if not slugs:
        return Choice([s for s in sources if s.enabled], [], [])
    by_slug = {s.slug: s for s in sources}
    broken_entries = {p.slug for p in problems if p.slug}
    chosen = [by_slug[slug] for slug in slugs if slug in by_slug]
    broken = [slug for slug in slugs if slug not in by_slug and slug in broken_entries]
    unknown = [slug for slug in slugs if slug not in by_slug and slug not in broken_entries]
    return Choice(chosen, broken, unknown)


def select(sources: list[Source], slugs: Sequence[str]) -> list[Source]:
    """The sources named by slug (all enabled ones when none are named); unknown slugs are an error."""
    choice = choose(sources, slugs)
    if choice.unknown:
        raise ConfigError(f"unknown source slug(s): {', '.join(choice.unknown)}")
    return choice.sources


@cache
def load_profiles() -> dict[str, Profile]:
    """The named CMS profiles shipped in feed/profiles.yaml."""
    ref = resources.files("feed.config").joinpath("profiles.yaml")
    if not ref.is_file():
        return {}
    path = Path(str(ref))
    data = _read_yaml(path) or {}
    raw = data.get("profiles") or {}
    profiles: dict[str, Profile] = {}
    for name, body in raw.items():
        if not PROFILE_NAME.fullmatch(str(name)):
            raise ConfigError(f"{path}: profile {name}: name must match {PROFILE_NAME.pattern}")
        try:
            profiles[name] = Profile(**(body or {}))
        except ValidationError as exc:
            raise ConfigError(_format_error(path, f"profile {name}", exc)) from exc
    return profiles


def get_profile(name: str) -> Profile:
    """A profile by name; ConfigError when there is none."""
    try:
        return load_profiles()[name]
    except KeyError:
        raise ConfigError(f"unknown profile {name!r}") from None

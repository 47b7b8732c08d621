"""Reading sources.yaml as text: each entry with its line numbers, and entry-by-entry recovery.

A YAML mistake in one entry (an unclosed quote, a line indented one space too far) makes the whole file
unreadable to a YAML parser. The operator's other sources must still run, so when the file fails as a whole
the `sources:` list is cut at its item lines ("  - slug: …") and each entry is parsed alone; the broken one is
reported with its lines, the rest are kept. What lies outside the list (version, defaults) applies to every
entry, so a mistake there leaves nothing usable.

Aliases (`*name`) are counted once the file is composed, before anything is built from or walks the node tree:
every alias adds the size (in nodes) of what it stands for, and past ALIAS_BUDGET nodes the file is refused with
AliasBudgetError (a few hundred bytes of nested aliases would otherwise expand to billions of nodes: an "alias
bomb"). An alias to a node that contains it is refused too. The count visits each written node once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

_SOURCES_KEY = re.compile(r"^sources\s*:\s*(?:#.*)?$")
_ITEM = re.compile(r"^(?P<indent> *)-(?:\s|$)")
_SLUG_HINT = re.compile(r"^[ -]*slug\s*:\s*[\"']?(?P<slug>[A-Za-z0-9][A-Za-z0-9_-]*)", re.M)
# Nodes that aliases may add to a document, all aliases together. A legitimate file shares a few selector blocks
# (tens of nodes each) between entries; 5,000 entries sharing one such block stay well below this.
ALIAS_BUDGET = 200_000


class AliasBudgetError(yaml.MarkedYAMLError):
    """A document whose aliases expand beyond ALIAS_BUDGET nodes, or refer to a node that contains them."""


# libyaml's loader when PyYAML has it (about ten times faster: 5,000 sources load in well under a second); the
# pure-Python one otherwise, and again for a file libyaml refuses, so every message names lines the same way.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# An anchor (`&name`) begins a node's properties, so it follows a space, a flow indicator or the start of the text;
# a text with no such `&` has no anchors, hence no aliases, and needs no weighing (an `&` inside a URL or word is
# passed over; one inside quotes only costs the weighing).
_ANCHOR = re.compile(r"(?<![^\s\[\]{},])&")


def weigh(root: yaml.Node | None, budget: int = ALIAS_BUDGET) -> None:
    """Refuse a node tree whose aliases stand for more than `budget` nodes, or refer to a node that holds them.

    The composer never copies an aliased node: an alias is the anchored node itself, met again. So the tree is
    walked once in document order, each node's size (in nodes, aliases expanded) counted on its first meeting;
    every later meeting is an alias and adds that size to the total. The walk visits each written node once and
    never expands anything. AliasBudgetError, at the line of the key or collection holding the alias.
    """
    if root is None:
        return
    weights: dict[int, int] = {}
    open_nodes = {id(root)}
    aliased = 0
    # Frames: [node, its children flat (a mapping's as key, value, key, value…), next child, size so far].
    stack: list[list[Any]] = [[root, _children(root), 0, 1]]
    while stack:
        frame = stack[-1]
        node, children, index = frame[0], frame[1], frame[2]
        if index == len(children):
            stack.pop()
            weights[id(node)] = frame[3]
            open_nodes.discard(id(node))
            if stack:
                stack[-1][3] += frame[3]
            continue
        frame[2] = index + 1
        child = children[index]
        key = id(child)
        weight = weights.get(key)
        if weight is not None or key in open_nodes:
            holder = children[index - index % 2] if isinstance(node, yaml.MappingNode) else node
            mark: Any = holder.start_mark
            if weight is None:
                raise AliasBudgetError(None, None, "an alias refers to a node that contains it", mark)
            aliased += weight
            frame[3] += weight
            if aliased > budget:
                raise AliasBudgetError(
                    None,
                    None,
                    f"aliases expand to more than {budget:,} nodes (an alias bomb?); "
                    "write the values out or nest fewer aliases",
                    mark,
                )
        elif isinstance(child, yaml.ScalarNode):
            weights[key] = 1
            frame[3] += 1
        else:
            open_nodes.add(key)
            stack.append([child, _children(child), 0, 1])


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


@dataclass(frozen=True)
class Note:
    """A problem found while reading, at a line of the file (1-based) when one is known."""

    message: str
    line: int | None = None


@dataclass
class RawEntry:
    """One item of the `sources:` list as written: its data, or the YAML problem that kept it from being read."""

    number: int  # position in the list, from 1
    data: Any = None
    first_line: int | None = None
    last_line: int | None = None
    node: yaml.Node | None = None
    offset: int = 0  # lines before the text the node was composed from (entries parsed alone)
    error: Note | None = None

    def slug(self) -> str | None:
        """The slug the entry names, even when the entry is broken; None when it names none."""
        if isinstance(self.data, dict) and isinstance(self.data.get("slug"), str):
            return str(self.data["slug"])
        return None

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """The line of the deepest part of loc (a pydantic error location) written in this entry."""
        node, line = self.node, self.first_line
        for part in loc:
            node = _child(node, part)
            if node is None:
                break
            line = node.start_mark.line + 1 + self.offset
        return line

    def repeated_keys(self) -> list[tuple[str, int, int]]:
        """(key, first line, second line) of keys written twice in one mapping: YAML silently keeps the last,
        so which one was meant is unknown."""
        return list(_repeats(self.node, self.offset))


@dataclass
class RawDocument:
    """A sources file split into what applies to all entries (`top`) and the entries themselves."""

    top: dict[str, Any] = field(default_factory=dict)
    entries: list[RawEntry] = field(default_factory=list)
    fatal: Note | None = None  # nothing in the file can be used
    notes: list[Note] = field(default_factory=list)  # problems of the file that leave the entries usable


def compose(text: str, budget: int | None = None) -> tuple[Any, yaml.Node | None]:
    """The parsed data and its node tree (which knows the line of every value).

    AliasBudgetError (a yaml.YAMLError) when aliases would expand beyond `budget` nodes (ALIAS_BUDGET by default),
    found before anything is built from the tree.
    """
    try:
        return _compose(_FAST_LOADER, text, budget)
    except AliasBudgetError:
        raise
    except yaml.YAMLError:
        if _FAST_LOADER is yaml.SafeLoader:
            raise
    return _compose(yaml.SafeLoader, text, budget)  # the same problem, in the words and lines tests and docs know


def _compose(loader_type: type[yaml.SafeLoader], text: str, budget: int | None) -> tuple[Any, yaml.Node | None]:
    loader = loader_type(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        if _ANCHOR.search(text):
            weigh(node, ALIAS_BUDGET if budget is None else budget)
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def read_document(text: str) -> RawDocument:
    """Split a sources file into its entries, recovering entry by entry when it is not valid YAML as a whole."""
    try:
        data, root = compose(text)
    except AliasBudgetError as exc:  # not a typo that one entry alone could hold: nothing in the file is used
        return RawDocument(fatal=alias_note(exc))
    except yaml.YAMLError as exc:
        return _recover(text, exc)
    return document_from(data, root)


def document_from(data: Any, root: yaml.Node | None = None) -> RawDocument:
    """A document from already-parsed data (and its node tree, for line numbers, when there is one)."""
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        return RawDocument(fatal=Note("expected a mapping with a 'sources' list"))
    doc = RawDocument(top={k: v for k, v in data.items() if k != "sources"})
    for name, first, second in _repeats(root, 0, deep=False):
        doc.fatal = Note(f"top-level key {name!r} written twice (lines {first} and {second})", second)
        return doc
    items = _value_node(root, "sources")
    nodes = items.value if isinstance(items, yaml.SequenceNode) else []
    for index, item in enumerate(data["sources"]):
        node = nodes[index] if len(nodes) == len(data["sources"]) else None
        doc.entries.append(_entry(index + 1, item, node, 0))
    return doc


def _entry(number: int, data: Any, node: yaml.Node | None, offset: int) -> RawEntry:
    if node is None:
        return RawEntry(number, data)
    first = node.start_mark.line + 1 + offset
    last = node.end_mark.line + (1 if node.end_mark.column else 0) + offset
    return RawEntry(number, data, first, max(first, last), node, offset)


def _value_node(root: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return _value_node(node, str(part))
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def _repeats(node: yaml.Node | None, offset: int, *, deep: bool = True) -> Iterator[tuple[str, int, int]]:
    """(key, first line, repeated line) of every key written twice in a mapping under node."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                line = k.start_mark.line + 1 + offset
                if k.value in seen:
                    yield k.value, seen[k.value], line
                seen.setdefault(k.value, line)
            if deep:
                yield from _repeats(v, offset)
    elif isinstance(node, yaml.SequenceNode) and deep:
        for item in node.value:
            yield from _repeats(item, offset)


def yaml_note(exc: yaml.YAMLError, offset: int, prefix: str = "not valid YAML") -> Note:
    """The parser's complaint with its lines: where the broken construct starts and where the parser gave up."""
    if isinstance(exc, yaml.MarkedYAMLError):

        def at(text: str | None, mark: yaml.Mark | None) -> str:
            return f"{text} (line {mark.line + 1 + offset})" if text and mark else text or ""

        words = ", ".join(x for x in (at(exc.context, exc.context_mark), at(exc.problem, exc.problem_mark)) if x)
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # an unclosed quote: the line that opened it, not the end of the file
        return Note(f"{prefix}: {words}", mark.line + 1 + offset if mark else None)
    return Note(f"{prefix}: {exc}")


def alias_note(exc: AliasBudgetError) -> Note:
    """The one line that refuses a document for its aliases, at the alias that crossed the budget."""
    mark = exc.problem_mark
    return Note(f"YAML aliases refused: {exc.problem}", mark.line + 1 if mark else None)


def _recover(text: str, exc: yaml.YAMLError) -> RawDocument:
    """Parse what lies outside the sources list, then each list item alone."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _SOURCES_KEY.match(line)), None)
    items = _item_starts(lines, start) if start is not None else None
    if start is None or items is None:
        return RawDocument(fatal=yaml_note(exc, 0))
    starts, end = items
    outside = ["\n" if start <= i < end else line for i, line in enumerate(lines)]
    try:
        top, _ = compose("".join(outside))
    except yaml.YAMLError as outer:
        return RawDocument(fatal=yaml_note(outer, 0, "not valid YAML outside the sources list"))
    if top is not None and not isinstance(top, dict):
        return RawDocument(fatal=Note("expected a mapping with a 'sources' list"))
    doc = RawDocument(top=dict(top or {}))
    for number, (first, last) in enumerate(zip(starts, [*starts[1:], end], strict=True), 1):
        doc.entries.append(_chunk(number, "".join(lines[first:last]), first, last))
    if not any(entry.error for entry in doc.entries):
        doc.notes.append(yaml_note(exc, 0, "not valid YAML as a whole (each entry alone is)"))
    return doc


def _item_starts(lines: list[str], key: int) -> tuple[list[int], int] | None:
    """Where each item of the block list after line `key` starts, and where the list ends; None if no block list."""
    starts: list[int] = []
    indent: int | None = None
    for i in range(key + 1, len(lines)):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _ITEM.match(line)
        if indent is None:
            if item is None:
                return None
            indent = len(item["indent"])
        if item is not None and len(item["indent"]) == indent:
            starts.append(i)
        elif not line[0].isspace() and not (indent == 0 and item is not None):
            return (starts, i) if starts else None  # the next top-level key
    return (starts, len(lines)) if starts else None


def _chunk(number: int, text: str, first: int, last: int) -> RawEntry:
    """One list item parsed alone; lines are 0-based indexes [first, last) into the file."""
    span = f"lines {first + 1}-{_last_written(text, first)}"
    hint = _SLUG_HINT.search(text)
    try:
        data, node = compose(text)
    except yaml.YAMLError as exc:
        note = yaml_note(exc, first)
        broken = {"slug": hint["slug"]} if hint else None
        return RawEntry(number, broken, first + 1, last, None, first, Note(f"{span}: {note.message}", note.line))
    if not isinstance(data, list) or len(data) != 1 or not isinstance(node, yaml.SequenceNode):
        return RawEntry(number, None, first + 1, last, None, first, Note(f"{span}: not one list item", first + 1))
    return _entry(number, data[0], node.value[0], first)


def _last_written(text: str, first: int) -> int:
    """The 1-based number of the last non-blank line of a chunk starting at 0-based line `first`."""
    written = [i for i, line in enumerate(text.splitlines()) if line.strip() and not line.lstrip().startswith("#")]
    return first + 1 + (written[-1] if written else 0)

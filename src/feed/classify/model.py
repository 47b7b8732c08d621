"""The learned meeting-report model at inference: a logistic regression read from its JSON artifact
(src/feed/classify/meeting_model.json, written by `unionfeed train`, feed.classify.train) and applied as a plain
dot product over named features (feed.classify.features). No scikit-learn here: only the standard library.

The artifact holds, for the report decision, an intercept, a threshold on the probability and one weight per
feature name; for the kind, either "rules" (the kind rules of cues.yaml decide) or a multinomial model (one
intercept per kind and, per feature name, one weight per kind).
"""

from __future__ import annotations

import heapq
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from feed.classify.features import (
    BODY_CHARS,
    CHAR_NGRAMS,
    CHAR_ZONES,
    FEATURE_VERSION,
    WORD_NGRAMS,
    Features,
    block_value,
)

ARTIFACT = "meeting_model.json"
# How the kind is decided: "rules" (the kind rules of cues.yaml), "model" (the learned kind model), "hybrid" (the
# rules when one of them fires, the model when the rules have no kind cue and would say other_meeting)
LEARNED_KINDS = ("model", "hybrid")
VETOES = ("ceremony",)  # the vetoes an artifact may ask for (feed.classify.classifier applies them)
FORMAT = 1


class ModelError(ValueError):
    """The artifact is missing, malformed, or was made for other features."""


def feature_spec() -> dict[str, Any]:
    """What the features are; a model trained on other features is refused."""
    return {
        "version": FEATURE_VERSION,
        "body_chars": BODY_CHARS,
        "char_ngrams": list(CHAR_NGRAMS),
        "char_zones": list(CHAR_ZONES),
        "word_ngrams": list(WORD_NGRAMS),
    }


@dataclass(frozen=True)
class Contribution:
    feature: str
    value: float
    weight: float

    @property
    def amount(self) -> float:
        return self.value * self.weight


_FAMILIES = {"cue": "cues", "g": "grammar", "s": "structure"}


def _split(name: str) -> tuple[str, str] | None:
    """("w|body", "hôi5") for an n-gram feature name "w|body|hôi5"; None for a scalar feature."""
    if name[:2] in ("w|", "c|"):
        kind, zone, gram = name.split("|", 2)
        return f"{kind}|{zone}", gram
    return None


@dataclass
class Model:
    """A loaded model: report weights, and kind weights when the kind is learned."""

    intercept: float
    threshold: float  # on the probability of a meeting report
    weights: dict[str, float]  # every feature name with a weight (as the artifact has them)
    kind_method: str = "rules"  # "rules" or "model"
    vetoes: tuple[str, ...] = ()  # grammar findings that make a page not a report whatever p is ("ceremony")
    kinds: tuple[str, ...] = ()
    kind_intercepts: tuple[float, ...] = ()
    kind_weights: dict[str, list[float]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    # the same weights split for fast lookup: scalar name -> w; block -> gram -> w
    _scalars: dict[str, float] = field(default_factory=dict, repr=False)
    _blocks: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)
    _kind_scalars: dict[str, list[float]] = field(default_factory=dict, repr=False)
    _kind_blocks: dict[str, dict[str, list[float]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name, w in self.weights.items():
            split = _split(name)
            if split:
                self._blocks.setdefault(split[0], {})[split[1]] = w
            else:
                self._scalars[name] = w
        for name, ws in self.kind_weights.items():
            split = _split(name)
            if split:
                self._kind_blocks.setdefault(split[0], {})[split[1]] = ws
            else:
                self._kind_scalars[name] = ws

    def logit(self, features: Features) -> float:
        """The intercept plus every weight times its feature's value."""
        return self.intercept + math.fsum(self.parts(features).values())

    def probability(self, features: Features) -> float:
        return sigmoid(self.logit(features))

    def parts(self, features: Features) -> dict[str, float]:
        """What each family of features adds to the logit: cues, grammar, structure, word and char n-grams."""
        out: dict[str, float] = {}
        weights = self._scalars
        for name, value in features.scalars.items():
            w = weights.get(name)
            if w:
                family = _FAMILIES.get(name.split("|", 1)[0], "other")
                out[family] = out.get(family, 0.0) + w * value
        for block, grams in features.blocks.items():
            bw = self._blocks.get(block)
            if bw:
                family = "words" if block.startswith("w|") else "chars"
                amount = block_value(grams) * sum(filter(None, map(bw.get, grams)))
                out[family] = out.get(family, 0.0) + amount
        return out

    def contributions(self, features: Features, top: int = 12) -> list[Contribution]:
        """The features that moved the decision most, either way."""
        found = [(abs(w * v), n, v, w) for n, v in features.scalars.items() if (w := self._scalars.get(n))]
        for block, grams in features.blocks.items():
            bw = self._blocks.get(block)
            if bw:
                value = block_value(grams)
                found.extend((abs(w * value), f"{block}|{g}", value, w) for g in grams if (w := bw.get(g)))
        return [Contribution(n, v, w) for _, n, v, w in heapq.nlargest(top, found)]

    def _kind_parts(self, features: Features) -> list[tuple[str, float, list[float]]]:
        parts = [(n, v, ws) for n, v in features.scalars.items() if (ws := self._kind_scalars.get(n))]
        for block, grams in features.blocks.items():
            bw = self._kind_blocks.get(block)
            if bw:
                value = block_value(grams)
                parts.extend((f"{block}|{g}", value, ws) for g in grams if (ws := bw.get(g)))
        return parts

    def kind_scores(self, features: Features) -> dict[str, float]:
        """Per kind, the probability the learned kind model gives (empty when the rules decide)."""
        if self.kind_method not in LEARNED_KINDS or not self.kinds:
            return {}
        totals = list(self.kind_intercepts)
        rows = [(value, ws) for name, value in features.scalars.items() if (ws := self._kind_scalars.get(name))]
        for value, ws in rows:
            for i, w in enumerate(ws):
                totals[i] += w * value
        for block, grams in features.blocks.items():
            bw = self._kind_blocks.get(block)
            if bw:
                found = list(filter(None, map(bw.get, grams)))
                if found:
                    value = block_value(grams)
                    for i, column in enumerate(zip(*found, strict=True)):
                        totals[i] += value * sum(column)
        top = max(totals)
        exps = [math.exp(t - top) for t in totals]
        norm = sum(exps)
        return {k: e / norm for k, e in zip(self.kinds, exps, strict=True)}

    def kind(self, features: Features, *, rule_fired: bool = False) -> str | None:
        """The learned kind, or None when the rules decide (always, or under "hybrid" when a rule fired)."""
        if self.kind_method == "hybrid" and rule_fired:
            return None
        return self._learned_kind(features)

    def _learned_kind(self, features: Features) -> str | None:
        scores = self.kind_scores(features)
        return max(scores, key=lambda k: (scores[k], k)) if scores else None

    def kind_contributions(self, features: Features, kind: str, top: int = 8) -> list[Contribution]:
        if kind not in self.kinds:
            return []
        i = self.kinds.index(kind)
        found = [(abs(v * ws[i]), n, v, ws[i]) for n, v, ws in self._kind_parts(features) if ws[i]]
        return [Contribution(n, v, w) for _, n, v, w in heapq.nlargest(top, found)]


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def from_json(data: dict[str, Any]) -> Model:
    """A Model from the artifact's parsed JSON; ModelError when it does not fit these features."""
    try:
        if data.get("format") != FORMAT:
            raise ModelError(f"artifact format {data.get('format')!r}, expected {FORMAT}")
        if data.get("features") != feature_spec():
            raise ModelError(f"artifact made for features {data.get('features')}, these are {feature_spec()}")
        report, kind = data["report"], data["kind"]
        method = str(kind["method"])
        if method not in ("rules", *LEARNED_KINDS):
            raise ModelError(f"unknown kind method {method!r}")
        learned = method in LEARNED_KINDS
        model = Model(
            intercept=float(report["intercept"]),
            threshold=float(report["threshold"]),
            weights={str(k): float(v) for k, v in report["weights"].items()},
            kind_method=method,
            vetoes=tuple(str(v) for v in report.get("vetoes", [])),
            kinds=tuple(str(k) for k in kind["classes"]) if learned else (),
            kind_intercepts=tuple(float(x) for x in kind["intercepts"]) if learned else (),
            kind_weights={str(k): [float(x) for x in v] for k, v in kind["weights"].items()} if learned else {},
            meta={k: v for k, v in data.items() if k not in ("report", "kind")},
        )
        unknown = set(model.vetoes) - set(VETOES)
        if unknown:
            raise ModelError(f"unknown vetoes {sorted(unknown)}")
        if learned and (
            len(model.kind_intercepts) != len(model.kinds)
            or any(len(ws) != len(model.kinds) for ws in model.kind_weights.values())
        ):
            raise ModelError("malformed model artifact: kind weights do not match the kinds")
    except (KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"malformed model artifact: {exc!r}") from exc
    return model


def load(path: Path) -> Model:
    """A model from an artifact file."""
    return from_json(json.loads(path.read_text(encoding="utf-8")))


def shipped_path() -> Path:
    """Where the packaged artifact lives (in the source tree for an editable install)."""
    return Path(str(resources.files("feed.classify").joinpath(ARTIFACT)))


@lru_cache(maxsize=1)
def shipped() -> Model:
    """The packaged model, loaded once per process."""
    raw = resources.files("feed.classify").joinpath(ARTIFACT).read_text(encoding="utf-8")
    return from_json(json.loads(raw))

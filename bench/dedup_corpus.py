"""A procedural corpus of Vietnamese union news for bench/dedup.py, with known copies and near misses.

Every article is rendered from a *skeleton* (which sentence frames and which stock fillers, drawn from one
random stream) and *slots* (organisation, people, figures, date, drawn from another). A syndicated copy is
the same skeleton and slots passed through copy edits (new dateline, captions, credit and byline lines,
synonyms, a dropped or reworded sentence). A near miss is the same skeleton with other slots: the same kind
of meeting, reported with the same stock sentences, by another union in the same week. The vocabulary
(bench/dedup_vocab.py) is written for this benchmark; no text is taken from real articles.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from dedup_vocab import (
    ATTEND,
    BODY,
    CLOSINGS,
    COMPANY_KINDS,
    DAY_PARTS,
    DISTRICTS,
    DOMAINS,
    EDITOR_NOTES,
    FIGURES,
    FILLERS,
    FREE_OPENINGS,
    GIVENS,
    GUEST_ROLES,
    INDUSTRIES,
    MEETINGS,
    MIDDLES,
    OPENINGS,
    OUTLETS,
    PLACES,
    PROVINCES,
    ROLES,
    ROMANS,
    SECTORS,
    SPEECH,
    SURNAMES,
    SYLLABLES,
    SYNONYMS,
)

_FILLER = re.compile(r"\[(\w+)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def _number(rng: random.Random, low: int, high: int) -> str:
    return f"{rng.randint(low, high):,}".replace(",", ".")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVENS)}"


def _org(rng: random.Random) -> tuple[str, str, str]:
    """A union's full name, how later sentences refer to it, and its scope word."""
    kind = rng.randrange(7)
    prov = rng.choice(PROVINCES)
    if kind == 0:
        return f"Liên đoàn Lao động tỉnh {prov}", "Liên đoàn Lao động tỉnh", "tỉnh"
    if kind == 1:
        return f"Công đoàn Viên chức tỉnh {prov}", "Công đoàn Viên chức tỉnh", "ngành"
    if kind == 2:
        sector = rng.choice(SECTORS)
        return f"Công đoàn ngành {sector} tỉnh {prov}", f"Công đoàn ngành {sector}", "ngành"
    if kind == 3:
        return f"Công đoàn các Khu công nghiệp tỉnh {prov}", "Công đoàn các Khu công nghiệp", "khu công nghiệp"
    if kind == 4:
        district = rng.choice(DISTRICTS)
        return f"Liên đoàn Lao động huyện {district}", f"Liên đoàn Lao động huyện {district}", "huyện"
    if kind == 5:
        company = (
            f"{rng.choice(COMPANY_KINDS)} {rng.choice(INDUSTRIES)} {rng.choice(SYLLABLES)} {rng.choice(SYLLABLES)}"
        )
        return f"Công đoàn cơ sở {company}", "Công đoàn cơ sở", "công ty"
    sector = rng.choice(SECTORS)
    return f"Công đoàn {sector} Việt Nam", f"Công đoàn {sector} Việt Nam", "ngành"


def draw_slots(rng: random.Random, week: int) -> dict[str, str]:
    """Who, how many and when: what differs between two unions' reports of the same kind of meeting."""
    org, short, scope = _org(rng)
    day = 1 + (week * 7 + rng.randrange(7)) % 28
    month = 1 + (week // 4) % 12
    year = 2020 + (week // 52) % 7
    return {
        "org": org,
        "org_short": short,
        "scope": scope,
        "chair": _person(rng),
        "guest": _person(rng),
        "role": rng.choice(ROLES),
        "guest_role": rng.choice(GUEST_ROLES),
        "date": f"{day}/{month}",
        "date_span": f"hai ngày {day} và {day + 1}/{month}",
        "year": str(year),
        "next": str(year + 1),
        "term": str(year + 5),
        "roman": rng.choice(ROMANS),
        "place": rng.choice(PLACES),
        "figures": str(rng.getrandbits(48)),
    }


def _slot(figures: random.Random, slots: dict[str, str], name: str) -> str:
    if name == "money":
        return f"{figures.randint(1, 90)},{figures.randint(1, 9)}"
    if name in FIGURES:
        return _number(figures, *FIGURES[name])
    return slots[name]


@dataclass(frozen=True)
class Skeleton:
    """The template choices of one report: which frames, which fillers; rendering adds the slots."""

    seed: int

    def render(self, slots: dict[str, str]) -> str:
        """The report's body for these slots (deterministic: same skeleton and slots, same text)."""
        rng = random.Random(self.seed)
        figures = random.Random(int(slots["figures"]))
        title, kind = rng.choice(MEETINGS)
        local = {
            **slots,
            "meeting_short": "Hội nghị" if kind != "đại hội" else "Đại hội",
            "verb": rng.choice(("tổ chức", "long trọng tổ chức", "đã tổ chức")),
            "daypart": rng.choice(DAY_PARTS),
        }
        local["meeting"] = self._sentence(rng, figures, title, local, capital=False)
        meeting_news = rng.random() < 0.8
        opening = rng.choice(OPENINGS if meeting_news else FREE_OPENINGS)
        paragraphs = [
            self._sentence(rng, figures, opening, local) + " " + self._sentence(rng, figures, rng.choice(ATTEND), local)
        ]
        frames = rng.sample(BODY, rng.randint(8, 14))
        while frames:
            k = rng.randint(2, 3)
            take, frames = frames[:k], frames[k:]
            paragraphs.append(" ".join(self._sentence(rng, figures, f, local) for f in take))
        paragraphs.append(self._sentence(rng, figures, rng.choice(SPEECH), local))
        paragraphs.append(self._sentence(rng, figures, rng.choice(CLOSINGS), local))
        return "\n".join(paragraphs)

    @staticmethod
    def _sentence(
        rng: random.Random, figures: random.Random, frame: str, slots: dict[str, str], capital: bool = True
    ) -> str:
        text = _FILLER.sub(lambda m: rng.choice(FILLERS[m.group(1)]), frame)
        text = _SLOT.sub(lambda m: _slot(figures, slots, m.group(1)), text)
        return text[0].upper() + text[1:] if capital else text


def copy_edits(body: str, slots: dict[str, str], rng: random.Random) -> str:
    """A syndicated copy: the outlet's dateline, photo captions, credit and byline lines, small edits."""
    paragraphs = body.split("\n")
    for old, new in rng.sample(SYNONYMS, rng.randint(0, 3)):
        paragraphs = [p.replace(old, new, 1) if rng.random() < 0.5 else p for p in paragraphs]
    trims = 2 if rng.random() < 0.15 else int(rng.random() < 0.3)  # one copy in seven is cut hard
    for _ in range(trims):
        if len(paragraphs) > 5:
            del paragraphs[rng.randrange(2, len(paragraphs) - 1)]  # the copy trims a paragraph
    if trims == 2:
        paragraphs.insert(rng.randrange(1, len(paragraphs)), rng.choice(EDITOR_NOTES).format(**slots))
    if rng.random() < 0.3:
        first = paragraphs[0].split(". ")
        paragraphs[0] = ". ".join(first[1:]) or paragraphs[0]  # the copy rewrites its own opening
        paragraphs.insert(0, f"Vừa qua, {slots['org']} đã tổ chức hội nghị quan trọng.")
    for _ in range(rng.randint(0, 2)):
        caption = rng.choice(
            (
                f"Ảnh: Đồng chí {slots['guest']} phát biểu tại hội nghị.",
                f"Đồng chí {slots['chair']} trao khen thưởng cho các tập thể.",
                "Quang cảnh hội nghị.",
                "Các đại biểu biểu quyết thông qua nghị quyết.",
            )
        )
        paragraphs.insert(rng.randrange(1, len(paragraphs)), caption)
    if rng.random() < 0.6:
        dateline = rng.choice(("(LĐ) - ", "(NLĐO) - ", "TTXVN - ", f"{rng.choice(DOMAINS)} - ", "(CĐVN) - "))
        paragraphs[0] = dateline + paragraphs[0]
    if rng.random() < 0.5:
        paragraphs.append(f"{rng.choice(('Tin, ảnh', 'Bài, ảnh', 'PV'))}: {rng.choice(GIVENS)} {rng.choice(GIVENS)}")
    if rng.random() < 0.7:
        outlet = rng.choice(OUTLETS).format(prov=rng.choice(PROVINCES), domain=rng.choice(DOMAINS))
        paragraphs.append(rng.choice((f"(Theo {outlet})", f"Nguồn: {outlet}", f"(BBT dẫn tin từ {outlet})")))
    return "\n".join(paragraphs)


@dataclass(frozen=True)
class Article:
    story: int  # ground truth: articles of one story are copies of each other
    family: int  # stories rendered from one skeleton (near misses share a family, not a story)
    body: str


FAMILIES_PER_BLOCK = 400


def generate_block(seed: int, block: int) -> list[Article]:
    """One block of the corpus (blocks are independent, so they can be generated in parallel): stories
    with 0-3 syndicated copies; one skeleton in eight is also reported by a second union (a near miss)."""
    rng = random.Random(f"{seed}:{block}")
    articles: list[Article] = []
    story = block * FAMILIES_PER_BLOCK * 2
    for offset in range(FAMILIES_PER_BLOCK):
        family = block * FAMILIES_PER_BLOCK + offset
        skeleton = Skeleton(rng.getrandbits(48))
        week = rng.randrange(52 * 6)
        for _ in range(2 if rng.random() < 0.125 else 1):
            slots = draw_slots(random.Random(rng.getrandbits(48)), week)
            body = skeleton.render(slots)
            copies = rng.choices((0, 1, 2, 3), weights=(70, 18, 8, 4))[0]
            for k in range(1 + copies):
                text = body if k == 0 else copy_edits(body, slots, random.Random(rng.getrandbits(48)))
                articles.append(Article(story, family, text))
            story += 1
    return articles


def generate(n: int, seed: int = 7) -> list[Article]:
    """The first n articles of the corpus, block after block."""
    articles: list[Article] = []
    block = 0
    while len(articles) < n:
        articles.extend(generate_block(seed, block))
        block += 1
    return articles[:n]

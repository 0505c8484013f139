"""The texts of an exchange: the user's request, the model's answer, and their token counts."""

from __future__ import annotations

from loaders.synthetic.constants import LONG_BODY_RATE
from loaders.synthetic.draw import between, uniform
from loaders.synthetic.pools import Language
from loaders.synthetic.record import Record
from loaders.synthetic.slots import fill, render


def user_text(r: Record) -> str:
    """The user's request, with the rare phrase and a pasted long document at their (low) rates."""
    rng = r.rng
    prompts = r.task.prompts
    r.prompt_index = int(rng.random() * len(prompts))
    text = fill(r, prompts[r.prompt_index]) + rare_phrase(r)
    if rng.random() < LONG_BODY_RATE:
        text += "\n\n" + long_document(r)
    return text


def rare_phrase(r: Record) -> str:
    """A sentence with RARE_PHRASE for the record drawn to carry it (once), else nothing."""
    if not r.rare:
        return ""
    r.rare = False
    return " " + uniform(r.rng, r.pools.banks.slots.rare_carriers)


def answer_text(r: Record) -> str:
    answers = r.task.answers
    return fill(r, answers[r.prompt_index]) if r.task.paired else render(r, answers)


def long_document(r: Record) -> str:
    target = between(r.rng, 10_000, 60_000)
    parts: list[str] = []
    size = 0
    while size < target:
        paragraph = r.sentences(3, 8)
        parts.append(paragraph)
        size += len(paragraph.encode()) + 2
    return "\n\n".join(parts)


def tokens(r: Record, chars: int, language: Language | None = None) -> int:
    per_token = (language or r.language).bank.chars_per_token
    return max(1, int(chars / per_token * (0.9 + 0.2 * r.rng.random())))

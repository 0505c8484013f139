"""A record's slots: what `{name}` in a template stands for, and how the record draws it.

A slot is drawn the first time a template of the record needs it and then kept, so the prompt and the completion
agree (the same order number, the same customer). Slots are drawn in the order they occur in the text, nested
templates included, and that order is part of the data set: it fixes which random numbers each value consumes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loaders.synthetic.banks import Banks
from loaders.synthetic.draw import between, order_number, uniform, zipf
from loaders.synthetic.record import Record
from loaders.synthetic.templates import Template


def fill(r: Record, template: Template) -> str:
    values = r.values
    # Inline rather than through value(): this is the generator's innermost loop.
    return template.text.format(*[values[name] if name in values else _draw(r, name) for name in template.slots])


def render(r: Record, templates: Sequence[Template]) -> str:
    """One of `templates`, filled."""
    return fill(r, uniform(r.rng, templates))


def value(r: Record, name: str) -> str:
    values = r.values
    return values[name] if name in values else _draw(r, name)


def check_slots(banks: Banks) -> None:
    """Fails on a slot that has no value: a rare template might otherwise first be filled a million records in."""
    unknown = {name for template in banks.record_templates() for name in template.slots} - SLOTS.keys()
    if unknown:
        raise ValueError(f"templates use slots that slots.py does not define: {sorted(unknown)}")


def _draw(r: Record, name: str) -> str:
    drawn = r.values[name] = SLOTS[name](r)
    return drawn


# -- the record's language: its own names, cities and topics ---------------------------------------------------


def _name(r: Record) -> str:
    return zipf(r.rng, r.language.bank.names)


def _other_name(r: Record) -> str:
    return uniform(r.rng, r.language.bank.names)


def _city(r: Record) -> str:
    return zipf(r.rng, r.language.bank.cities)


def _topic(r: Record) -> str:
    return zipf(r.rng, r.language.bank.topics)


def _other_topic(r: Record) -> str:
    return uniform(r.rng, r.language.bank.topics)


def _email(r: Record) -> str:
    name = value(r, "name").lower().replace(" ", ".")
    return f"{name}@example.com" if name.isascii() else "support-user@example.com"


# -- sentences from the pools ----------------------------------------------------------------------------------


def _context(r: Record) -> str:
    return r.sentences(*r.task.context)


def _body(r: Record) -> str:
    return r.sentences(*r.task.body)


def _detail(r: Record) -> str:
    return r.sentences(1, 3)


def _bullets(r: Record) -> str:
    return "- " + "\n- ".join(uniform(r.rng, r.language.pool) for _ in range(between(r.rng, 3, 5)))


def _english_sentence(r: Record) -> str:
    return uniform(r.rng, r.pools.english.pool)


def _target_language_name(r: Record) -> str:
    return r.target_language().bank.english_name


def _translation(r: Record) -> str:
    return r.sentences(1, 4, r.target_language())


# -- English banks, generated values ---------------------------------------------------------------------------


def _product(r: Record) -> str:
    return zipf(r.rng, r.pools.banks.english.products)


def _company(r: Record) -> str:
    return zipf(r.rng, r.pools.banks.english.companies)


def _codename(r: Record) -> str:
    return zipf(r.rng, r.pools.codenames)


def _number(r: Record) -> str:
    return str(between(r.rng, 2, 30))


def _order(r: Record) -> str:
    return order_number(r.rng)


def _date(r: Record) -> str:
    return uniform(r.rng, r.pools.dates)


def _weekday(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.english.weekdays)


def _concept(r: Record) -> str:
    return zipf(r.rng, r.pools.banks.english.concepts)


def _other_concept(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.english.concepts)


def _audience(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.english.audiences)


def _doc_kind(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.english.doc_kinds)


# -- task banks ------------------------------------------------------------------------------------------------


def _code_task(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.slots.code_tasks)


def _identifier(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.slots.identifiers)


def _code(r: Record) -> str:
    return render(r, r.pools.banks.slots.code_snippets)


def _metric(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.slots.sql_metrics)


def _dimension(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.slots.sql_dimensions)


def _table(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.slots.sql_tables)


def _sql(r: Record) -> str:
    return render(r, r.pools.banks.slots.sql_templates)


def _sql_report(r: Record) -> str:
    return fill(r, r.pools.banks.slots.sql_templates[0])


def _issue(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.slots.issues)


def _email_text(r: Record) -> str:
    return render(r, r.pools.banks.slots.email_texts)


def _review(r: Record) -> str:
    # The review fixes the record's {sentiment}, which a classification answer then gives.
    review, r.values["sentiment"] = uniform(r.rng, r.pools.banks.slots.reviews)
    return fill(r, review)


def _question(r: Record) -> str:
    return render(r, r.pools.banks.slots.questions)


def _sentiment(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.slots.sentiments)


def _yes_no(r: Record) -> str:
    return zipf(r.rng, r.pools.banks.slots.yes_no)


def _category(r: Record) -> str:
    return uniform(r.rng, r.pools.banks.slots.categories)


SLOTS: dict[str, Callable[[Record], str]] = {
    "name": _name,
    "name2": _other_name,
    "city": _city,
    "topic": _topic,
    "topic2": _other_topic,
    "email": _email,
    "context": _context,
    "body": _body,
    "detail": _detail,
    "bullets": _bullets,
    "sentence": _english_sentence,
    "lang_name": _target_language_name,
    "foreign": _translation,
    "product": _product,
    "company": _company,
    "thing": _codename,
    "n": _number,
    "order": _order,
    "date": _date,
    "weekday": _weekday,
    "concept": _concept,
    "concept2": _other_concept,
    "audience": _audience,
    "doc": _doc_kind,
    "code_task": _code_task,
    "ident": _identifier,
    "code": _code,
    "metric": _metric,
    "dimension": _dimension,
    "table": _table,
    "sql": _sql,
    "sql_report": _sql_report,
    "issue": _issue,
    "email_text": _email_text,
    "review": _review,
    "question": _question,
    "sentiment": _sentiment,
    "yesno": _yes_no,
    "category": _category,
}

"""The word banks, phrase banks and templates, loaded once from the TOML files beside this module.

These are part of the data set's definition: the order of every list matters (draws pick by index, `zipf` by rank),
so editing a bank changes the records of every seed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from loaders.synthetic.constants import RARE_PHRASE
from loaders.synthetic.datafiles import Table
from loaders.synthetic.templates import Template
from loaders.synthetic.traffic import Traffic, read_traffic

TRANSLATE = "translate"  # the task whose completion is in another language than its prompt
_HELPFUL = ("You are a helpful assistant.",)


@dataclass(frozen=True)
class Task:
    """What users ask and what they get back; see tasks.toml for the fields."""

    name: str
    prompts: tuple[Template, ...]
    answers: tuple[Template, ...]
    systems: tuple[Template, ...]
    followups: tuple[Template, ...]
    followup_answers: tuple[Template, ...]
    context: tuple[int, int]  # sentences in {context}
    body: tuple[int, int]  # sentences in {body}
    paired: bool  # answers[k] answers prompts[k]


@dataclass(frozen=True)
class LanguageBank:
    code: str
    english_name: str
    weight: float
    chars_per_token: float  # for token counts that track text length
    joiner: str  # between sentences: no space in Japanese and Chinese
    names: tuple[str, ...]
    cities: tuple[str, ...]
    topics: tuple[str, ...]
    sentences: tuple[Template, ...]  # for this language's sentence pool
    task: Task | None  # what non-English users ask; English uses the app's tasks


@dataclass(frozen=True)
class English:
    """English words: the grammar's slot values and the banks of English-only record slots."""

    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    verbs: tuple[str, ...]
    adverbs: tuple[str, ...]
    concepts: tuple[str, ...]
    audiences: tuple[str, ...]
    doc_kinds: tuple[str, ...]
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    products: tuple[str, ...]
    companies: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    grammar: tuple[Template, ...]  # generated sentences for the English pool, beside its handwritten ones
    syllables: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # codenames: onsets, vowels, codas


@dataclass(frozen=True)
class SlotBanks:
    """What task-specific slots ({code}, {sql}, {review}, ...) draw from."""

    code_tasks: tuple[str, ...]
    identifiers: tuple[str, ...]
    code_snippets: tuple[Template, ...]
    sql_metrics: tuple[str, ...]
    sql_dimensions: tuple[str, ...]
    sql_tables: tuple[str, ...]
    sql_templates: tuple[Template, ...]
    issues: tuple[str, ...]
    email_texts: tuple[Template, ...]
    questions: tuple[Template, ...]
    sentiments: tuple[str, ...]
    yes_no: tuple[str, ...]
    categories: tuple[str, ...]
    reviews: tuple[tuple[Template, str], ...]  # with the sentiment a classifier should give
    rare_carriers: tuple[str, ...]  # sentences with RARE_PHRASE in place


@dataclass(frozen=True)
class Banks:
    english: English
    languages: tuple[LanguageBank, ...]  # English first, in the order of the weighted draw
    tasks: dict[str, Task]  # English tasks by name
    slots: SlotBanks
    traffic: Traffic

    def record_templates(self) -> Iterator[Template]:
        """Every template filled with a record's slots (as opposed to the pools' sentence templates)."""
        tasks = [*self.tasks.values(), *(language.task for language in self.languages if language.task)]
        for task in tasks:
            yield from (*task.prompts, *task.answers, *task.systems, *task.followups, *task.followup_answers)
        slots = self.slots
        yield from (*slots.code_snippets, *slots.sql_templates, *slots.email_texts, *slots.questions)
        yield from (review for review, _ in slots.reviews)


@functools.cache
def load_banks() -> Banks:
    english_file = Table.read("english.toml")
    tasks_file = Table.read("tasks.toml")
    english = _english(english_file)
    followups = tasks_file.table("followups")
    shared = (followups.templates("prompts"), followups.templates("answers"))
    tasks_table = tasks_file.table("tasks")
    tasks = {name: _task(tasks_table.table(name), name, shared) for name in tasks_table.raw}
    return Banks(
        english=english,
        languages=_languages(Table.read("languages.toml"), english_file, english),
        tasks=tasks,
        slots=_slot_banks(tasks_file.table("slots")),
        traffic=read_traffic(Table.read("traffic.toml"), tasks),
    )


def _english(file: Table) -> English:
    syllables = file.table("codename_syllables")
    return English(
        nouns=file.strings("nouns"),
        adjectives=file.strings("adjectives"),
        verbs=file.strings("verbs"),
        adverbs=file.strings("adverbs"),
        concepts=file.strings("concepts"),
        audiences=file.strings("audiences"),
        doc_kinds=file.strings("doc_kinds"),
        weekdays=file.strings("weekdays"),
        months=file.strings("months"),
        products=file.strings("products"),
        companies=file.strings("companies"),
        first_names=file.strings("first_names"),
        last_names=file.strings("last_names"),
        grammar=file.templates("grammar"),
        syllables=(syllables.strings("onsets"), syllables.strings("vowels"), syllables.strings("codas")),
    )


def _task(table: Table, name: str, shared: tuple[tuple[Template, ...], tuple[Template, ...]] | None) -> Task:
    if table.flag("multi_turn"):
        if shared is None:
            raise ValueError(f"{table.where}: multi_turn is for English tasks; list followups instead")
        followups, followup_answers = shared
    else:
        followups, followup_answers = table.templates("followups", ()), table.templates("followup_answers", ())
    return Task(
        name=name,
        prompts=table.templates("prompts"),
        answers=table.templates("answers"),
        systems=table.templates("systems", _HELPFUL),
        followups=followups,
        followup_answers=followup_answers,
        context=table.bounds("context", (1, 3)),
        body=table.bounds("body", (1, 4)),
        paired=table.flag("paired"),
    )


def _languages(file: Table, english_file: Table, english: English) -> tuple[LanguageBank, ...]:
    banks = []
    for table in file.tables("languages"):
        code = table.text("code")
        if code == "en":
            # English names: every first name with each of the first six last names.
            names = tuple(f"{first} {last}" for last in english.last_names[:6] for first in english.first_names)
            source, task = english_file, None
        else:
            source, names = table, table.strings("names")
            task = _task(table.table("task"), f"{code}-requests", None)
        banks.append(
            LanguageBank(
                code=code,
                english_name=table.text("english_name"),
                weight=table.number("weight"),
                chars_per_token=table.number("chars_per_token"),
                joiner=table.text("joiner"),
                names=names,
                cities=source.strings("cities"),
                topics=source.strings("topics"),
                sentences=source.templates("sentences"),
                task=task,
            )
        )
    if not banks or banks[0].code != "en":
        raise ValueError("languages.toml: English must come first")
    return tuple(banks)


def _slot_banks(table: Table) -> SlotBanks:
    return SlotBanks(
        code_tasks=table.strings("code_tasks"),
        identifiers=table.strings("identifiers"),
        code_snippets=table.templates("code_snippets"),
        sql_metrics=table.strings("sql_metrics"),
        sql_dimensions=table.strings("sql_dimensions"),
        sql_tables=table.strings("sql_tables"),
        sql_templates=table.templates("sql_templates"),
        issues=table.strings("issues"),
        email_texts=table.templates("email_texts"),
        questions=table.templates("questions"),
        sentiments=table.strings("sentiments"),
        yes_no=table.strings("yes_no"),
        categories=table.strings("categories"),
        reviews=tuple(
            (Template.compile(review.text("text")), review.text("sentiment")) for review in table.tables("reviews")
        ),
        rare_carriers=tuple(carrier.format(phrase=RARE_PHRASE) for carrier in table.strings("rare_carriers")),
    )

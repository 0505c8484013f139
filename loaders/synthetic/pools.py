"""What records draw from, built once per process from the banks with a fixed generator: formatted sentence
pools, made-up codenames, users, addresses, and weighted choices ready to pick from."""

from __future__ import annotations

import functools
import ipaddress
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from core.pricing import PricingTable
from loaders.synthetic.banks import Banks, English, LanguageBank, Task, load_banks
from loaders.synthetic.constants import COMMON_WORD, ERROR_STATUSES, RARE_PHRASE, REFERENCE_TIME, WINDOW_DAYS
from loaders.synthetic.draw import Weighted, between, order_number, uniform, zipf
from loaders.synthetic.templates import Template
from loaders.synthetic.traffic import App, Traffic

# One fixed generator for the pools: they are part of the data set's definition, like the banks.
_POOLS_SEED = 20250701


@dataclass(frozen=True)
class Language:
    bank: LanguageBank
    pool: tuple[str, ...]  # formatted sentences; records draw from here


@dataclass(frozen=True)
class User:
    id: str
    ip: str
    tier: str


@dataclass(frozen=True)
class Pools:
    banks: Banks
    traffic: Traffic
    english: Language
    foreign: tuple[Language, ...]
    languages: Weighted[Language]
    codenames: tuple[str, ...]
    users: tuple[User, ...]  # in activity order: `zipf` makes the first ones the heavy users
    ips: tuple[str, ...]
    internal_ips: tuple[str, ...]
    apps: Weighted[App]
    app_endpoints: dict[str, Weighted[str]]
    app_tasks: dict[str, Weighted[Task]]
    chat_models: Weighted[str]
    completion_models: Weighted[str]
    embedding_models: Weighted[str]
    responses_models: Weighted[str]
    errors: Weighted[int]  # 0 for success
    environments: Weighted[str]
    dates: tuple[str, ...]
    vectors: tuple[str, ...]  # short embedding vectors as JSON text
    model_listing: str  # the response body of GET /v1/models
    pricing: PricingTable = field(default_factory=PricingTable.default)


@functools.cache
def pools() -> Pools:
    banks = load_banks()
    traffic = banks.traffic
    if missing := {status for status, _ in ERROR_STATUSES} - set(traffic.error_bodies):
        raise ValueError(f"traffic.toml: no error bodies for statuses {sorted(missing)}")
    rng = random.Random(_POOLS_SEED)
    # The draws below happen in this order, which is part of the data set's definition.
    codenames = _make_codenames(rng, banks.english, 30_000)
    english_bank, *foreign_banks = banks.languages
    english = Language(english_bank, _english_pool(rng, banks.english, english_bank, codenames))
    foreign = tuple(Language(bank, _foreign_pool(rng, banks.english, bank, codenames)) for bank in foreign_banks)
    tiers = Weighted(traffic.tiers)
    users = tuple(_make_user(rng, banks.english, traffic, tiers, k) for k in range(400))
    ips = tuple(_random_ip(rng, traffic) for _ in range(3000))
    internal_ips = tuple(f"10.0.{between(rng, 0, 3)}.{between(rng, 2, 254)}" for _ in range(16))
    vectors = tuple(_vector(rng) for _ in range(256))
    ok = 1.0 - sum(rate for _, rate in ERROR_STATUSES)
    return Pools(
        banks=banks,
        traffic=traffic,
        english=english,
        foreign=foreign,
        languages=Weighted([(language, language.bank.weight) for language in (english, *foreign)]),
        codenames=codenames,
        users=users,
        ips=ips,
        internal_ips=internal_ips,
        apps=Weighted([(app, app.weight) for app in traffic.apps]),
        app_endpoints={app.name: Weighted(app.endpoints) for app in traffic.apps},
        app_tasks={app.name: Weighted([(banks.tasks[name], w) for name, w in app.tasks]) for app in traffic.apps},
        chat_models=Weighted(traffic.chat_models),
        completion_models=Weighted(traffic.completion_models),
        embedding_models=Weighted(traffic.embedding_models),
        responses_models=Weighted(traffic.responses_models),
        errors=Weighted([(0, ok), *ERROR_STATUSES]),
        environments=Weighted(traffic.environments),
        dates=tuple((REFERENCE_TIME - timedelta(days=d)).strftime("%Y-%m-%d") for d in range(WINDOW_DAYS + 30)),
        vectors=vectors,
        model_listing=_model_listing(traffic.listed_models),
    )


def _make_codenames(rng: random.Random, english: English, count: int) -> tuple[str, ...]:
    """Made-up words (project and product codenames): the long tail, most of them rare."""
    onsets, vowels, codas = english.syllables
    reserved = {COMMON_WORD, *RARE_PHRASE.split(), *english.nouns, *english.adjectives, *english.verbs}
    names: dict[str, None] = {}  # a dict, not a set: insertion order must not depend on string hashing
    while len(names) < count:
        word = "".join(
            uniform(rng, onsets) + uniform(rng, vowels) + uniform(rng, codas) for _ in range(between(rng, 2, 3))
        )
        if word not in reserved:
            names[word.capitalize()] = None
    return tuple(names)


def _pool_words(english: English, bank: LanguageBank, codenames: tuple[str, ...]) -> dict[str, Sequence[str]]:
    """The values of the pool templates' slots: the language's own names, cities and topics, English for the rest."""
    return {
        "noun": english.nouns,
        "adj": english.adjectives,
        "verb": english.verbs,
        "adv": english.adverbs,
        "weekday": english.weekdays,
        "month": english.months,
        "product": english.products,
        "company": english.companies,
        "thing": codenames,
        "name": bank.names,
        "city": bank.cities,
        "topic": bank.topics,
    }


def _check_pool_slots(templates: Sequence[Template], words: dict[str, Sequence[str]]) -> None:
    unknown = {name for template in templates for name in template.slots} - words.keys() - {"n", "order"}
    if unknown:
        raise ValueError(f"sentence templates use slots that the pools do not define: {sorted(unknown)}")


def _pool_sentence(rng: random.Random, template: Template, words: dict[str, Sequence[str]]) -> str:
    # Unlike a record's slots, every occurrence of a slot draws anew: one sentence may name two nouns.
    return template.text.format(*[_pool_value(rng, name, words) for name in template.slots])


def _pool_value(rng: random.Random, name: str, words: dict[str, Sequence[str]]) -> str:
    if name == "n":
        return str(between(rng, 2, 60))
    if name == "order":
        return order_number(rng)
    return zipf(rng, words[name])


def _english_pool(
    rng: random.Random, english: English, bank: LanguageBank, codenames: tuple[str, ...]
) -> tuple[str, ...]:
    words = _pool_words(english, bank, codenames)
    _check_pool_slots([*english.grammar, *bank.sentences], words)
    grammar = [_pool_sentence(rng, uniform(rng, english.grammar), words) for _ in range(3000)]
    written = [_pool_sentence(rng, uniform(rng, bank.sentences), words) for _ in range(1000)]
    return tuple(grammar + written)


def _foreign_pool(
    rng: random.Random, english: English, bank: LanguageBank, codenames: tuple[str, ...]
) -> tuple[str, ...]:
    words = _pool_words(english, bank, codenames)
    _check_pool_slots(bank.sentences, words)
    return tuple(_pool_sentence(rng, uniform(rng, bank.sentences), words) for _ in range(600))


def _make_user(rng: random.Random, english: English, traffic: Traffic, tiers: Weighted[str], number: int) -> User:
    if rng.random() < 0.4:
        first, last = uniform(rng, english.first_names), uniform(rng, english.last_names)
        domain = uniform(rng, traffic.email_domains)
        user_id = f"{first.lower()}.{last.lower()}{number}@{domain}"
    else:
        user_id = f"user_{rng.getrandbits(32):08x}"
    return User(user_id, _random_ip(rng, traffic), tiers.pick(rng))


def _random_ip(rng: random.Random, traffic: Traffic) -> str:
    if rng.random() < 0.15:
        groups = [0x2A02, rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(16)]
        groups += [rng.getrandbits(16) for _ in range(4)]
        return str(ipaddress.IPv6Address(":".join(f"{g:x}" for g in groups)))
    first = uniform(rng, traffic.ipv4_first_octets)
    return f"{first}.{rng.getrandbits(8)}.{rng.getrandbits(8)}.{between(rng, 1, 254)}"


def _vector(rng: random.Random) -> str:
    # Real vectors have 1536+ dimensions; logs that keep them all would dwarf the text, so these are shortened.
    return "[" + ",".join(f"{rng.gauss(0, 0.05):.6f}" for _ in range(8)) + "]"


def _model_listing(models: Sequence[str]) -> str:
    listed = ",".join(
        f'{{"id":"{name}","object":"model","created":{1_700_000_000 + 86_400 * k},"owned_by":"system"}}'
        for k, name in enumerate(models)
    )
    return '{"object":"list","data":[' + listed + "]}"

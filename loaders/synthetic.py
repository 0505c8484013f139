"""Deterministic synthetic request logs: demo data for the README and millions of documents for benchmarks.

`generate(count, seed, start)` yields raw records (plain dicts with the spec's field names, accepted by
`RawRequest.model_validate`). Record `i` depends only on `(seed, i)`: each record reseeds one `random.Random`
from both, so a resumed run starts at `start` without producing what came before, and a run split across
processes yields the same records as one run.

The mix imitates an OpenAI-style proxy's log: chat completions mostly, some Responses API, legacy completions,
embeddings and model listings; a dozen models at skewed frequencies (a few unknown to the pricing table); end
users with a long-tailed activity distribution; English text mostly, with Spanish, German, French, Japanese,
Chinese and Korean; streamed, cached and failed requests; `x-metadata-*` headers. Texts come from phrase banks
and templates with slots drawn from vocabularies ranked by a Zipf-like law, so there are common words and a
long tail of rare ones (made-up project codenames). Bodies are assembled as JSON text from templates with
strings escaped by the C encoder, because `json.dumps` on nested dicts per record would dominate the cost.

Search benchmarks rely on these constants. Frequencies are shares of records whose request body, completion,
response body or streamed body contains the text, measured over seeds 0-3 (500,000 records): `COMMON_WORD` (as a
word, any case) in about a third of records, `RARE_PHRASE` (as a phrase) in about 1 in 5,000 (each record with a
request text carries it with probability `RARE_PHRASE_RATE`), and `CJK_WORD` in about 3.3%.
"""

# ruff: noqa: RUF001  (Chinese and Japanese text uses full-width punctuation on purpose)
from __future__ import annotations

import base64
import bisect
import functools
import ipaddress
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring  # the C string escaper: quotes, escapes, keeps non-ASCII as is
from typing import Any, Generic, TypeVar

from core.pricing import PricingTable

T = TypeVar("T")

# Fixed, never now(): the same seed must give the same timestamps on any day.
REFERENCE_TIME = datetime(2025, 7, 1, tzinfo=UTC)
WINDOW_DAYS = 90

# Search benchmark terms and the share of records that contain them (measured: see the module docstring).
COMMON_WORD = "please"
COMMON_WORD_FREQUENCY = 0.336
RARE_PHRASE = "velvet thunder protocol"  # each word occurs elsewhere, the phrase only where placed on purpose
RARE_PHRASE_RATE = 1 / 5000
CJK_WORD = "天気"  # Japanese "weather"
CJK_WORD_FREQUENCY = 0.033

LONG_BODY_RATE = 0.003  # prompts of tens of KB: a pasted document
MODEL_LISTING_RATE = 0.003  # GET /v1/models: no body, no model
STREAMED_RATE = 0.25
CACHED_RATE = 0.04
BATCH_PRICED_RATE = 0.02  # records whose cost the logger set itself (batch API: half the list price)
SYSTEM_MESSAGE_RATE = 0.6
MULTI_TURN_RATE = 0.2
CONTENT_PARTS_RATE = 0.1
METADATA_RATE = 0.8
ERROR_STATUSES: tuple[tuple[int, float], ...] = ((400, 0.005), (401, 0.0025), (429, 0.01), (500, 0.004), (503, 0.0025))

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REFERENCE_MS = int((REFERENCE_TIME - _EPOCH).total_seconds() * 1000)
_DAY_MS = 86_400_000


def generate(count: int, seed: int = 0, start: int = 0) -> Iterator[dict[str, Any]]:
    """Raw records number `start` to `count - 1` of the stream for `seed`."""
    if start < 0 or count < 0:
        raise ValueError("count and start must not be negative")
    banks = _banks()
    rng = random.Random()
    seed_bits = (seed & 0xFFFF_FFFF_FFFF_FFFF) << 64  # record numbers fill the low 64 bits of the seed
    for number in range(start, count):
        rng.seed(seed_bits | number)
        yield _build(_Record(rng, banks), seed, number)


# --------------------------------------------------------------------------------------------------------------
# Drawing helpers


class _Weighted(Generic[T]):
    """A weighted choice that costs one random() and a bisect."""

    __slots__ = ("_cumulative", "_items", "_last", "_total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self._items = [item for item, _ in pairs]
        self._cumulative = list(itertools.accumulate(weight for _, weight in pairs))
        self._total = self._cumulative[-1]
        self._last = len(self._items) - 1

    def pick(self, rng: random.Random) -> T:
        return self._items[bisect.bisect(self._cumulative, rng.random() * self._total, hi=self._last)]


def _zipf(rng: random.Random, items: Sequence[T]) -> T:
    """Rank k (from 1) with probability about 1/(k ln n): the list's order is its frequency order."""
    return items[int(len(items) ** rng.random()) - 1]


def _uniform(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _words(text: str) -> tuple[str, ...]:
    """A word list written as running text, so long lists stay compact under the formatter."""
    return tuple(text.split())


def _phrases(text: str) -> tuple[str, ...]:
    """A list of phrases that may contain spaces, separated by `|`."""
    return tuple(" ".join(phrase.split()) for phrase in text.split("|"))


# --------------------------------------------------------------------------------------------------------------
# Phrase banks. Lists are in frequency order where `_zipf` draws from them.

_EN_NOUNS = _words(
    """
    account order invoice report customer dashboard payment subscription password feature database server query
    release budget meeting ticket refund shipment contract schedule proposal warranty battery screen router laptop
    printer camera charger firmware license receipt address delivery package discount review forecast revenue margin
    campaign newsletter audience segment metric latency outage incident deployment container cluster bucket token
    model prompt dataset embedding index schema migration backup snapshot policy audit vendor supplier warehouse
    inventory roster appointment clinic lesson student course exam recipe kitchen flight hotel itinerary passport
    luggage garden bicycle engine protocol thunder lighthouse harbor glacier meadow orchard lantern compass
    telescope violin cathedral tapestry manuscript saxophone aqueduct archipelago sundial gazebo trebuchet zeppelin
    quarry marionette apothecary chandelier observatory catacomb menagerie palimpsest astrolabe
    """
)
_EN_ADJECTIVES = _words(
    """
    new quick simple late broken secure reliable slow urgent monthly annual detailed internal external public
    private critical minor expensive cheap friendly confusing missing duplicate accurate legacy modern scalable
    wireless portable premium basic seasonal regional quarterly automated manual encrypted hybrid remote fragile
    amber crimson ancient velvet luminous obscure meticulous whimsical iridescent labyrinthine serendipitous
    cantankerous effervescent quixotic mellifluous
    """
)
_EN_VERBS = _words(
    """
    improves reduces requires includes supports replaces affects delays tracks updates exports validates blocks
    triggers schedules summarizes highlights duplicates overrides caches encrypts archives throttles reconciles
    aggregates deprecates illuminates untangles bewilders rejuvenates
    """
)
_EN_ADVERBS = _words(
    """
    quickly again automatically slowly intermittently silently correctly twice daily unexpectedly gracefully
    erratically inexplicably
    """
)
_EN_TOPICS = _phrases(
    """
    billing | shipping | onboarding | analytics | security | pricing | marketing | hiring | compliance | support |
    logistics | procurement | sustainability | accessibility | localization | observability | forecasting | payroll |
    recruiting | fundraising | partnerships | retention | search | mobile | infrastructure | data privacy |
    machine learning | customer success | quality assurance | tax
    """
)
_EN_CONCEPTS = _phrases(
    """
    vector databases | OAuth 2.0 | compound interest | the CAP theorem | inflation | transformer attention |
    Kubernetes pods | the TCP handshake | index funds | photosynthesis | gradient descent | DNS caching |
    public key cryptography | supply and demand | the Big-O notation | event sourcing | carbon offsets |
    retrieval-augmented generation | database sharding | garbage collection | quantum entanglement |
    the Monty Hall problem | blockchain consensus | circadian rhythms | Bayesian inference
    """
)
_EN_AUDIENCES = _phrases(
    """
    beginner | five-year-old | product manager | new employee | non-technical executive | high school student |
    senior engineer | small business owner
    """
)
_EN_DOC_KINDS = _phrases(
    """
    meeting notes | customer email | incident report | support ticket | research paper | contract | product spec |
    earnings call transcript | blog post
    """
)
_WEEKDAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
_MONTHS = _words("January February March April May June July August September October November December")
_PRODUCTS = _phrases(
    """
    Nimbus X2 router | AeroBook 14 | PixelCam Pro | Quill keyboard | Halo earbuds | Vector smartwatch | Orbit vacuum |
    Lumen desk lamp | Atlas backpack | Pulse fitness band | Echo Mini speaker | Flux e-bike | Terra thermostat |
    Nova tablet | Drift drone | Cobalt monitor | Sierra coffee grinder | Tidal kettle | Beacon doorbell | Summit tent
    """
)
_COMPANIES = _phrases(
    """
    Acme Corp | Globex | Initech | Umbrella Health | Stark Logistics | Wayne Retail | Hooli | Vandelay Imports |
    Soylent Foods | Cyberdyne Systems | Wonka Confectionery | Tyrell Biotech
    """
)
_FIRST_NAMES = _words(
    """
    Maria James Sofia Liam Aisha Noah Elena Lucas Priya Mateo Hannah Omar Chloe Ethan Yuki Lena Diego Fatima Oliver
    Ana Jonas Camille Ravi Zoe Hugo Ingrid Kwame Mei Pablo Sven
    """
)
_LAST_NAMES = _words(
    """
    Garcia Smith Müller Rossi Khan Johnson Dubois Silva Patel Novak Kim Nguyen Schmidt Lopez Brown Martin Okafor
    Larsen Tanaka Chen
    """
)
_EN_CITIES = _phrases(
    """
    London | New York | Berlin | Madrid | Paris | Toronto | Sydney | Chicago | Austin | Dublin | Lisbon | Amsterdam |
    Singapore | Cape Town | Mumbai | São Paulo | Reykjavik | Tbilisi | Ulaanbaatar
    """
)

# Sentences for the English pool: the grammar gives variety and the rare words, the handwritten ones realism.
_EN_GRAMMAR = (
    "The {adj} {noun} {verb} the {noun} before the {adj} {noun} goes live.",
    "Our {noun} team shipped the {adj} {noun} for the {thing} project last {weekday}.",
    "Customers report that the {noun} {verb} {adv} after the {noun} update.",
    "If the {noun} is {adj}, the {noun} {verb} {adv}.",
    "According to the {adj} report, {noun} costs rose by {n} percent in {month}.",
    "{name} noted that the {noun} {verb} {adv} in {city}.",
    "Please make sure the {noun} is {adj} before the {noun} deadline.",
    "The {thing} service {verb} every {noun} in the {adj} region.",
    "This {noun} {verb} the {noun} and {verb} the {adj} {noun}.",
    "Last {weekday}, the {noun} failed because the {noun} was {adj}.",
    "We expect the {adj} {noun} to reach {n} thousand users by {month}.",
    "A {adj} {noun} usually {verb} the {noun} within {n} minutes.",
)
_EN_SENTENCES = (
    "I have already tried restarting the {product} twice, but nothing changed.",
    "The package was marked as delivered on {weekday}, but I never received it.",
    "My account shows a charge of ${n}.99 that I don't recognize.",
    "We are migrating the {topic} service to a new cluster next quarter.",
    "The {product} arrived with a cracked screen and a missing charger.",
    "Our {topic} dashboard has been loading slowly since the last release.",
    "{name} from the {topic} team will present the results on {weekday}.",
    "The contract renewal for {company} is due at the end of {month}.",
    "Please find the updated {topic} policy attached to this email.",
    "The incident started at 14:{n} UTC and affected roughly {n} percent of requests.",
    "We decided to postpone the {thing} launch until the security review is complete.",
    "The invoice for order {order} lists the wrong billing address.",
    "Sales in {city} grew faster than in any other region this quarter.",
    "The onboarding flow asks for the same information twice, which confuses new users.",
    "Latency on the search endpoint doubled after the index migration.",
    "Could you please confirm the meeting time with {name}?",
    "Our refund policy allows returns within {n} days of delivery.",
    "The quarterly report shows revenue of {n} million and a stable margin.",
    "Battery life dropped noticeably after the latest firmware update.",
    "The {thing} prototype passed all integration tests on the first try.",
    "We need the final numbers for the {topic} budget by {weekday}.",
    "The hotel in {city} cancelled our booking without notice.",
    "Two engineers are on call for the {topic} rotation this week.",
    "The customer asked whether the {product} works without an internet connection.",
    "Data retention for {topic} logs is currently set to {n} days.",
    "I'd like to upgrade my plan but keep my existing discount.",
    "The new pricing takes effect on the first of {month}.",
    "Please do not share this document outside the {topic} team.",
)

# Task templates: {slot}s are drawn once per record, so the prompt and the completion agree.
_SUPPORT_SYSTEMS = (
    "You are a friendly customer support agent for {company}. Be concise and polite.",
    "You are a helpful assistant.",
    "You are a support assistant. Never promise refunds; escalate billing disputes to a human.",
)


@dataclass(frozen=True)
class _Task:
    prompts: tuple[str, ...]
    answers: tuple[str, ...]
    systems: tuple[str, ...] = ("You are a helpful assistant.",)
    followups: tuple[str, ...] = ()
    followup_answers: tuple[str, ...] = ()
    context: tuple[int, int] = (1, 3)  # sentences in {context}
    body: tuple[int, int] = (1, 4)  # sentences in {body}
    paired: bool = False  # answers[k] answers prompts[k] (a spam question gets yes or no, not a sentiment)


_EN_FOLLOWUPS = (
    "Thanks! Can you make it shorter?",
    "Please add more detail about the {topic} part.",
    "Can you translate that into {lang_name}?",
    "That doesn't look right. Please double-check the numbers.",
    "Great, now format it as a table.",
)
_EN_FOLLOWUP_ANSWERS = ("Sure. {detail}", "You're right, here is a corrected version: {detail}", "{detail}")

_EN_TASKS: dict[str, _Task] = {
    "support": _Task(
        prompts=(
            "Hi, my order {order} still hasn't arrived after {n} days. Can you please check where it is?",
            "I was charged twice for my subscription this month. Please refund the duplicate payment. {context}",
            "My {product} stopped working after the latest firmware update. {context}",
            "How do I reset my password? The reset email never arrives at {email}.",
            "Can I change the delivery address for order {order} to {city}?",
            "Please cancel my subscription effective immediately and confirm by email.",
            "The {product} I received is missing parts. What should I do? {context}",
            "Is the {product} covered by the warranty if the screen cracked on its own?",
        ),
        answers=(
            "I'm sorry for the trouble with order {order}. {body} Is there anything else I can help you with?",
            "Thanks for reaching out, {name}. {body}",
            "I understand how frustrating this must be. {body} Please let me know if the issue persists.",
            "I've checked your account and {body}",
        ),
        systems=_SUPPORT_SYSTEMS,
        followups=_EN_FOLLOWUPS,
        followup_answers=_EN_FOLLOWUP_ANSWERS,
    ),
    "summarize": _Task(
        prompts=(
            "Please summarize the following {doc} in {n} bullet points:\n\n{context}",
            "Summarize this for an executive audience, keep it under 100 words:\n\n{context}",
            "TL;DR please:\n{context}",
            "Give me a one-paragraph summary of the {doc} below.\n\n{context}",
        ),
        answers=("Here is a summary:\n\n{bullets}", "{body}", "Key points:\n{bullets}"),
        systems=("You summarize documents for busy executives.", "You are a helpful assistant."),
        followups=_EN_FOLLOWUPS,
        followup_answers=_EN_FOLLOWUP_ANSWERS,
        context=(4, 12),
        body=(2, 5),
    ),
    "translate": _Task(
        prompts=(
            "Translate the following text into {lang_name}:\n\n{context}",
            'Please translate to {lang_name} and keep the tone informal: "{sentence}"',
            'How would you say "{sentence}" in {lang_name}?',
        ),
        answers=("{foreign}",),
        systems=("You are a professional translator. Preserve formatting and tone.",),
        context=(1, 4),
    ),
    "code": _Task(
        prompts=(
            "Write a Python function that {code_task}. Include type hints and a docstring.",
            "Why does this code raise a KeyError?\n\n```python\n{code}\n```",
            "Refactor this function to be more readable:\n```python\n{code}\n```",
            "Can you add unit tests for this?\n\n```python\n{code}\n```",
        ),
        answers=(
            "Here's an implementation:\n\n```python\n{code}\n```\n\n{body}",
            "The error happens because the key is missing when the input is empty. {body}\n\n```python\n{code}\n```",
            "Here is a more readable version:\n\n```python\n{code}\n```\n\n{body}",
            "Here are some tests:\n\n```python\nimport pytest\n\n\ndef test_empty_{ident}():\n    assert dedupe([]) == []\n```",
        ),
        systems=("You are an expert software engineer. Answer with code when useful.", "You are a helpful assistant."),
        followups=_EN_FOLLOWUPS,
        followup_answers=_EN_FOLLOWUP_ANSWERS,
        body=(1, 2),
        paired=True,
    ),
    "sql": _Task(
        prompts=(
            "Write a SQL query that returns total {metric} per {dimension} for the last {n} days from the {table} table.",
            "Why is this query slow?\n\n```sql\n{sql}\n```",
            "Explain what this SQL does:\n{sql}",
        ),
        answers=(
            "```sql\n{sql_report}\n```\n\nThis groups the rows by {dimension} and sums {metric}.",
            "The query scans the whole {table} table. Adding an index on `{dimension}` should help. {body}",
            "It reads the {table} table: SELECT picks the columns, WHERE filters the rows and ORDER BY sorts them.",
        ),
        systems=("You are a senior data engineer. Prefer PostgreSQL syntax.",),
        body=(1, 2),
        paired=True,
    ),
    "extract": _Task(
        prompts=(
            "Extract the customer name, order number and issue from the email below and return JSON.\n\n{email_text}",
            "Pull out the sender, the product and the requested action as JSON:\n{email_text}",
        ),
        answers=('{{"name": "{name}", "order": "{order}", "issue": "{issue}"}}',),
        systems=("Answer in JSON only.", "You extract structured data from text."),
        context=(1, 2),
    ),
    "classify": _Task(
        prompts=(
            'Classify the sentiment of this review as positive, negative or neutral. Answer with one word.\n\nReview: "{review}"',
            "Is the following message spam? Reply yes or no.\n\n{context}",
            "Label this support ticket with one of: billing, shipping, technical, account.\n\n{context}",
        ),
        answers=("{sentiment}", "{yesno}", "{category}"),
        systems=("You are a precise classifier. Answer with the label only.",),
        paired=True,
    ),
    "marketing": _Task(
        prompts=(
            "Write a short product description for the {product}, aimed at a {audience}.",
            "Give me {n} catchy taglines for our {topic} campaign in {city}.",
            "Draft a LinkedIn post announcing our new {topic} feature, codename {thing}.",
        ),
        answers=("{body}", "Here are some ideas:\n{bullets}", "Excited to share {thing}! {body}"),
        systems=("You are a creative copywriter for {company}.",),
        followups=_EN_FOLLOWUPS,
        followup_answers=_EN_FOLLOWUP_ANSWERS,
    ),
    "explain": _Task(
        prompts=(
            "Explain {concept} to a {audience} in simple terms.",
            "What is the difference between {concept} and {concept2}?",
            "Can you explain how {thing} works? {context}",
            "ELI5: {concept}",
        ),
        answers=("{body}", "Sure! {body}", "Great question. {body}"),
        followups=_EN_FOLLOWUPS,
        followup_answers=_EN_FOLLOWUP_ANSWERS,
        body=(2, 6),
    ),
    "email": _Task(
        prompts=(
            "Draft a polite email to {name} asking to reschedule our {topic} meeting to {weekday}.",
            "Write a follow-up email to {name} at {company} about the {topic} proposal we sent on {date}.",
            "Please rewrite this email to sound more professional:\n\n{context}",
        ),
        answers=(
            "Hi {name},\n\n{body}\n\nBest regards,\n{name2}",
            "Subject: {topic} follow-up\n\nDear {name},\n\n{body}\n\nKind regards,\n{name2}",
        ),
        systems=("You write clear, friendly business emails.",),
        followups=_EN_FOLLOWUPS,
        followup_answers=_EN_FOLLOWUP_ANSWERS,
        context=(2, 5),
        body=(2, 4),
    ),
    "rag": _Task(
        prompts=(
            'Answer the question using only the context below. If the answer is not in the context, say "I don\'t know".\n\nContext:\n{context}\n\nQuestion: {question}',
            "You are given documentation excerpts.\n---\n{context}\n---\nQuestion: {question}",
        ),
        answers=("{body}", "I don't know based on the provided context.", "According to the documentation, {body}"),
        systems=("You answer questions about {company}'s product documentation.",),
        context=(3, 10),
        body=(1, 3),
    ),
}

_TRANSLATE = _EN_TASKS["translate"]
_CODE_TASKS = _phrases(
    """
    parses an ISO 8601 date and returns the weekday | deduplicates a list while preserving order |
    retries an HTTP request with exponential backoff | validates an email address | merges two sorted lists |
    computes a moving average over a window | converts a CSV file to JSON lines |
    finds the longest common prefix of a list of strings | chunks a document into overlapping windows for embeddings
    """
)
_IDENTIFIERS = _words("orders users items events rows records payload batch config results")
_CODE_SNIPPETS = (
    "def total_by_user({ident}):\n    totals = dict()\n    for row in {ident}:\n        totals[row['user']] += row['amount']\n    return totals",
    "def dedupe({ident}: list[str]) -> list[str]:\n    seen = set()\n    return [x for x in {ident} if not (x in seen or seen.add(x))]",
    "async def fetch(session, url, retries=3):\n    for attempt in range(retries):\n        async with session.get(url) as response:\n            if response.status == 200:\n                return await response.json()\n        await asyncio.sleep(2 ** attempt)",
    "def moving_average({ident}, window=7):\n    return [sum({ident}[i - window:i]) / window for i in range(window, len({ident}) + 1)]",
    "import csv, json\n\nwith open('{ident}.csv') as source:\n    for row in csv.DictReader(source):\n        print(json.dumps(row))",
)
_SQL_METRICS = _phrases("revenue | orders | sessions | signups | refunds | tokens")
_SQL_DIMENSIONS = _phrases("country | plan | channel | app_id | model | day")
_SQL_TABLES = _phrases("orders | events | payments | requests | subscriptions")
_SQL_TEMPLATES = (
    "SELECT {dimension}, SUM({metric}) AS total_{metric}\nFROM {table}\nWHERE created_at >= NOW() - INTERVAL '{n} days'\nGROUP BY {dimension}\nORDER BY total_{metric} DESC;",
    "SELECT *\nFROM {table}\nWHERE lower({dimension}) LIKE '%{ident}%'\nORDER BY created_at DESC\nLIMIT 100;",
)
_ISSUES = _phrases("late delivery | double charge | damaged item | wrong size | login problem | missing refund")
_EMAIL_TEXTS = (
    "Hello,\n\nMy name is {name} and I ordered a {product} (order {order}) on {date}. It is a {issue} again. {context}\n\nThanks,\n{name}",
    "Hi team, {name} here. Order {order} for the {product}: {issue}. {context} Please advise.",
)
_REVIEWS = (  # with the label a classifier should give
    ("The {product} is great, but the delivery took {n} days.", "Positive"),
    ("Terrible experience. The {product} broke after a week and support never answered.", "Negative"),
    ("It does what it says. Nothing special.", "Neutral"),
    ("Absolutely love the {product}! Setup took five minutes.", "Positive"),
    ("The {product} stopped charging after {n} days. Very disappointed.", "Negative"),
)
_QUESTIONS = (
    "How do I configure {thing} for {topic}?",
    "What is the retention period for {topic} data?",
    "Does the {product} support offline mode?",
    "Who should I contact about {topic} invoices?",
)
_SENTIMENTS = ("Positive", "Negative", "Neutral")
_YES_NO = ("no", "yes")
_CATEGORIES = ("billing", "shipping", "technical", "account")

# Rare-phrase carriers: the phrase lands in a plausible sentence, never in the banks themselves.
_RARE_CARRIERS = (
    "Also, what is the current status of the {phrase}?",
    "This is related to the {phrase} we discussed last week.",
    "Note: the {phrase} must be approved before release.",
)


@dataclass(frozen=True)
class _LanguageBank:
    code: str
    english_name: str
    weight: float
    chars_per_token: float  # for token counts that track text length
    joiner: str  # between sentences: no space in Japanese and Chinese
    names: tuple[str, ...]
    cities: tuple[str, ...]
    topics: tuple[str, ...]
    sentences: tuple[str, ...]  # templates for this language's sentence pool
    task: _Task | None = None  # what non-English users ask; English uses the app's tasks


_ES = _LanguageBank(
    code="es",
    english_name="Spanish",
    weight=0.07,
    chars_per_token=3.4,
    joiner=" ",
    names=_phrases("Lucía | Javier | Carmen | Alejandro | Sofía | Diego | Valentina | Mateo"),
    cities=_phrases("Madrid | Barcelona | Sevilla | Valencia | Bilbao | Ciudad de México | Buenos Aires | Bogotá"),
    topics=_phrases(
        """
        facturación | envíos | privacidad | inteligencia artificial | contabilidad | marketing | recursos humanos |
        seguridad | logística | energía solar | atención al cliente
        """
    ),
    sentences=(
        "El equipo de {topic} revisará la solicitud antes del viernes.",
        "La factura del mes pasado incluía un cargo duplicado de {n} euros.",
        "En {city} el tiempo suele ser agradable durante la primavera.",
        "Hemos actualizado la política de privacidad para cumplir con la nueva normativa.",
        "El cliente {name} pidió un reembolso por el {product}.",
        "Recomendamos reiniciar el dispositivo y comprobar la conexión a internet.",
        "La reunión sobre {topic} se ha aplazado hasta la próxima semana.",
        "Los resultados del trimestre superaron las previsiones en un {n} por ciento.",
        "El proyecto {thing} utiliza una base de datos distribuida.",
        "Puedes encontrar más información en la sección de ayuda de tu cuenta.",
        "La entrega se retrasó por problemas con el transportista.",
        "Nuestro objetivo es reducir el tiempo de respuesta a menos de {n} segundos.",
    ),
    task=_Task(
        prompts=(
            "Hola, mi pedido {order} todavía no ha llegado a {city}. ¿Pueden revisar el estado, por favor?",
            "Resume el siguiente texto en {n} puntos:\n\n{context}",
            "¿Cuál es la diferencia entre {topic} y {topic2}?",
            "Escribe un correo formal a {name} sobre el proyecto {thing}.",
            "Necesito una receta fácil con pollo y arroz para {n} personas.",
            "Explícame cómo funciona la {topic} como si tuviera diez años.",
            'Traduce al inglés: "{context}"',
            "¿Qué opinas del {product}? Estoy pensando en comprarlo.",
            "Mi {product} no enciende desde ayer. {context}",
            "Dame ideas para un viaje de {n} días a {city}.",
        ),
        answers=(
            "¡Claro! {body}",
            "Hola {name}, {body}",
            "Aquí tienes un resumen: {body}",
            "{body} ¿Te puedo ayudar con algo más?",
            "Lamento las molestias. {body}",
        ),
        systems=("You are a helpful assistant. Always answer in Spanish.", "Eres un asistente útil y conciso."),
        followups=("Gracias, ¿puedes resumirlo más?", "¿Y qué pasa con {topic}?"),
        followup_answers=("Por supuesto. {detail}", "{detail}"),
        context=(2, 6),
    ),
)
_DE = _LanguageBank(
    code="de",
    english_name="German",
    weight=0.06,
    chars_per_token=3.2,
    joiner=" ",
    names=_phrases("Lukas | Anna | Felix | Marie | Jonas | Lea | Maximilian | Johanna"),
    cities=_phrases("Berlin | München | Hamburg | Köln | Frankfurt | Wien | Zürich | Düsseldorf"),
    topics=_phrases(
        """
        Buchhaltung | Datenschutz | künstliche Intelligenz | Versand | Rechnungen | Personalwesen | Cloud-Migration |
        Vertrieb | Lagerverwaltung | Energiewende | Steuererklärung | Kundenservice
        """
    ),
    sentences=(
        "Das {topic}-Team prüft die Anfrage bis Freitag.",
        "Die Rechnung vom letzten Monat enthielt eine doppelte Buchung über {n} Euro.",
        "In {city} ist das Wetter im Frühling meistens angenehm.",
        "Wir haben die Datenschutzerklärung an die neuen Vorschriften angepasst.",
        "Der Kunde {name} hat eine Rückerstattung für das {product} beantragt.",
        "Bitte starten Sie das Gerät neu und prüfen Sie die Internetverbindung.",
        "Die Besprechung zum Thema {topic} wurde auf nächste Woche verschoben.",
        "Der Quartalsumsatz lag {n} Prozent über der Prognose.",
        "Das Projekt {thing} verwendet eine verteilte Datenbank.",
        "Die Lieferung verzögert sich wegen Problemen beim Versanddienstleister.",
        "Unser Ziel ist es, die Antwortzeit auf unter {n} Sekunden zu senken.",
        "Weitere Informationen finden Sie im Hilfebereich Ihres Kontos.",
    ),
    task=_Task(
        prompts=(
            "Hallo, meine Bestellung {order} ist nach {n} Tagen immer noch nicht angekommen. Können Sie bitte nachsehen?",
            "Fasse den folgenden Text in {n} Stichpunkten zusammen:\n\n{context}",
            "Erkläre mir {topic} so, dass es ein Anfänger versteht.",
            "Schreibe eine höfliche E-Mail an {name} wegen des Projekts {thing}.",
            "Was ist der Unterschied zwischen {topic} und {topic2}?",
            "Mein {product} lässt sich seit dem Update nicht mehr einschalten. {context}",
            "Plane eine {n}-tägige Reise nach {city}.",
            'Übersetze bitte ins Englische: "{context}"',
        ),
        answers=(
            "Gerne! {body}",
            "Hallo {name}, {body}",
            "Hier ist eine Zusammenfassung: {body}",
            "{body} Kann ich sonst noch helfen?",
            "Das tut mir leid. {body}",
        ),
        systems=("You are a helpful assistant. Always answer in German.", "Du bist ein hilfreicher Assistent."),
        followups=("Danke! Kannst du das kürzer machen?", "Und was ist mit {topic}?"),
        followup_answers=("Natürlich. {detail}", "{detail}"),
        context=(2, 6),
    ),
)
_FR = _LanguageBank(
    code="fr",
    english_name="French",
    weight=0.06,
    chars_per_token=3.3,
    joiner=" ",
    names=_phrases("Camille | Louis | Chloé | Gabriel | Léa | Arthur | Manon | Jules"),
    cities=_phrases("Paris | Lyon | Marseille | Toulouse | Bordeaux | Lille | Montréal | Bruxelles"),
    topics=_phrases(
        """
        comptabilité | protection des données | intelligence artificielle | livraison | facturation |
        ressources humaines | sécurité informatique | ventes | logistique | énergie renouvelable
        """
    ),
    sentences=(
        "L'équipe {topic} examinera la demande avant vendredi.",
        "La facture du mois dernier comportait un double prélèvement de {n} euros.",
        "À {city}, le temps est généralement agréable au printemps.",
        "Nous avons mis à jour notre politique de confidentialité conformément à la nouvelle réglementation.",
        "Le client {name} a demandé le remboursement du {product}.",
        "Nous vous recommandons de redémarrer l'appareil et de vérifier la connexion internet.",
        "La réunion sur la {topic} a été reportée à la semaine prochaine.",
        "Le chiffre d'affaires trimestriel a dépassé les prévisions de {n} pour cent.",
        "Le projet {thing} s'appuie sur une base de données distribuée.",
        "La livraison a été retardée en raison d'un problème avec le transporteur.",
        "Vous trouverez plus d'informations dans la section d'aide de votre compte.",
    ),
    task=_Task(
        prompts=(
            "Bonjour, ma commande {order} n'est toujours pas arrivée après {n} jours. Pouvez-vous vérifier, s'il vous plaît ?",
            "Résume le texte suivant en {n} points :\n\n{context}",
            "Explique-moi la {topic} simplement.",
            "Rédige un e-mail professionnel à {name} au sujet du projet {thing}.",
            "Quelle est la différence entre la {topic} et la {topic2} ?",
            "Mon {product} ne s'allume plus depuis la mise à jour. {context}",
            "Propose un itinéraire de {n} jours à {city}.",
            "Traduis en anglais : « {context} »",
        ),
        answers=(
            "Bien sûr ! {body}",
            "Bonjour {name}, {body}",
            "Voici un résumé : {body}",
            "{body} Puis-je vous aider avec autre chose ?",
            "Je suis désolé pour ce désagrément. {body}",
        ),
        systems=("You are a helpful assistant. Always answer in French.", "Tu es un assistant serviable."),
        followups=("Merci ! Tu peux faire plus court ?", "Et pour la {topic} ?"),
        followup_answers=("Bien sûr. {detail}", "{detail}"),
        context=(2, 6),
    ),
)
_JA = _LanguageBank(
    code="ja",
    english_name="Japanese",
    weight=0.05,
    chars_per_token=1.1,
    joiner="",
    names=_phrases("佐藤 | 鈴木 | 高橋 | 田中 | 伊藤 | 渡辺 | 山本 | 中村"),
    cities=_phrases("東京 | 大阪 | 京都 | 札幌 | 福岡 | 名古屋 | 横浜 | 神戸"),
    topics=_phrases(
        "人工知能 | 機械学習 | クラウド | 請求書 | 配送 | セキュリティ | データベース | マーケティング | 人事 | 会計 | 観光 | 健康管理"
    ),
    sentences=(
        "今日の{city}の天気は晴れで、最高気温は{n}度の予報です。",
        "週末の天気は崩れる見込みなので、傘を持って行ったほうがいいでしょう。",
        "{topic}のチームは来週までに報告書を提出する予定です。",
        "注文{order}は現在配送センターで処理中です。",
        "{product}の電源が入らない場合は、充電ケーブルを確認してください。",
        "会議は{n}時から始まり、約一時間で終わる予定です。",
        "新しい料金プランは来月から適用されます。",
        "この機能を使うと、作業時間を大幅に短縮できます。",
        "{name}さんから請求書について問い合わせがありました。",
        "東京と大阪の売上は前年比で増加しました。",
        "システムのメンテナンスは深夜に行われます。",
        "プロジェクト{thing}は予定より{n}日遅れています。",
        "お客様の個人情報は安全に管理されています。",
        "明日の天気によっては、イベントが中止になる可能性があります。",
    ),
    task=_Task(
        prompts=(
            "明日の{city}の天気を教えてください。",
            "次の文章を{n}行で要約してください。\n\n{context}",
            "{topic}について初心者にもわかるように説明してください。",
            "注文番号{order}の商品がまだ届いていません。配送状況を確認してもらえますか？",
            "{name}さん宛てに、会議の日程変更をお願いするメールを書いてください。",
            "この{product}の使い方がわかりません。{context}",
            "{city}で{n}日間の旅行プランを立ててください。",
            'Translate into Japanese: "{sentence}"',
            "プロジェクト{thing}の進捗報告を作成してください。",
            "{topic}と{topic2}の違いは何ですか？",
        ),
        answers=(
            "かしこまりました。{body}",
            "{name}さん、お問い合わせありがとうございます。{body}",
            "以下が要約です。{body}",
            "{body}ほかにご質問があればお知らせください。",
        ),
        systems=("You are a helpful assistant. Always answer in Japanese.", "あなたは親切なアシスタントです。"),
        followups=("ありがとうございます。もう少し短くできますか？", "{topic}についても教えてください。"),
        followup_answers=("承知しました。{detail}", "{detail}"),
        context=(2, 6),
    ),
)
_ZH = _LanguageBank(
    code="zh",
    english_name="Chinese",
    weight=0.04,
    chars_per_token=1.2,
    joiner="",
    names=_phrases("王伟 | 李娜 | 张敏 | 刘洋 | 陈静 | 杨磊 | 赵倩 | 黄涛"),
    cities=_phrases("北京 | 上海 | 广州 | 深圳 | 杭州 | 成都 | 南京 | 西安"),
    topics=_phrases(
        "人工智能 | 机器学习 | 云计算 | 发票 | 物流 | 网络安全 | 数据库 | 市场营销 | 人力资源 | 财务 | 电子商务 | 在线教育"
    ),
    sentences=(
        "{city}今天天气晴朗，最高气温{n}度。",
        "我们的{topic}团队将在周五之前完成评审。",
        "订单{order}目前正在配送中心处理。",
        "如果{product}无法开机，请检查充电线是否连接正确。",
        "本季度的销售额比去年同期增长了{n}%。",
        "新的隐私政策将于下个月生效。",
        "请在系统维护期间保存好您的工作。",
        "客户{name}申请了退款。",
        "项目{thing}使用了分布式数据库。",
        "会议将在下午{n}点开始。",
        "人工智能正在改变许多行业的工作方式。",
        "我们建议您定期更改密码以保证账户安全。",
    ),
    task=_Task(
        prompts=(
            "请帮我把下面这段话总结成{n}个要点：\n\n{context}",
            "{city}明天的天气怎么样？",
            "请用简单的语言解释一下{topic}。",
            "我的订单{order}已经{n}天没有更新物流信息了，请帮忙查询。",
            "写一封邮件给{name}，通知他会议改到下周三。",
            "{product}连不上无线网络，应该怎么办？{context}",
            "请把这句话翻译成英文：“{context}”",
            "{topic}和{topic2}有什么区别？",
            "帮我制定一个去{city}的{n}天旅行计划。",
            "请为项目{thing}写一份周报。",
        ),
        answers=(
            "好的，{body}",
            "您好，{name}，{body}",
            "以下是总结：{body}",
            "{body}如果还有其他问题，请随时告诉我。",
        ),
        systems=("You are a helpful assistant. Always answer in Chinese.", "你是一个乐于助人的助手。"),
        followups=("谢谢！可以再简短一点吗？", "那{topic}呢？"),
        followup_answers=("当然。{detail}", "{detail}"),
        context=(2, 6),
    ),
)
_KO = _LanguageBank(
    code="ko",
    english_name="Korean",
    weight=0.02,
    chars_per_token=1.5,
    joiner=" ",
    names=_phrases("김민준 | 이서연 | 박지훈 | 최수아 | 정우진 | 강하은"),
    cities=_phrases("서울 | 부산 | 인천 | 대구 | 대전 | 광주 | 제주"),
    topics=_phrases("인공지능 | 머신러닝 | 클라우드 | 청구서 | 배송 | 보안 | 데이터베이스 | 마케팅 | 인사 | 회계"),
    sentences=(
        "오늘 {city}의 날씨는 맑고 최고 기온은 {n}도입니다.",
        "{topic} 팀은 금요일까지 검토를 마칠 예정입니다.",
        "주문 {order}은 현재 물류 센터에서 처리 중입니다.",
        "{product}의 전원이 켜지지 않으면 충전 케이블을 확인해 주세요.",
        "이번 분기 매출은 작년보다 {n}% 증가했습니다.",
        "새로운 개인정보 처리방침은 다음 달부터 적용됩니다.",
        "고객 {name}님이 환불을 요청했습니다.",
        "프로젝트 {thing}는 예정보다 {n}일 늦어지고 있습니다.",
        "회의는 오후 {n}시에 시작합니다.",
        "인공지능은 많은 산업의 일하는 방식을 바꾸고 있습니다.",
    ),
    task=_Task(
        prompts=(
            "다음 글을 {n}줄로 요약해 주세요.\n\n{context}",
            "내일 {city} 날씨 어때요?",
            "{topic}에 대해 쉽게 설명해 주세요.",
            "주문번호 {order} 배송이 아직 안 왔어요. 확인 부탁드립니다.",
            "{name}님께 회의 일정 변경을 요청하는 이메일을 써 주세요.",
            "{product}가 켜지지 않아요. {context}",
            "{city}에서 {n}일 동안 여행 일정을 짜 주세요.",
            "{topic}와 {topic2}의 차이점은 무엇인가요?",
        ),
        answers=(
            "네, 알겠습니다. {body}",
            "{name}님, 문의해 주셔서 감사합니다. {body}",
            "요약은 다음과 같습니다. {body}",
            "{body} 더 궁금한 점이 있으면 말씀해 주세요.",
        ),
        systems=("You are a helpful assistant. Always answer in Korean.", "당신은 친절한 도우미입니다."),
        followups=("고마워요! 좀 더 짧게 해 줄 수 있나요?", "{topic}은 어때요?"),
        followup_answers=("물론입니다. {detail}", "{detail}"),
        context=(2, 6),
    ),
)
_ENGLISH = _LanguageBank(
    code="en",
    english_name="English",
    weight=0.70,
    chars_per_token=4.0,
    joiner=" ",
    names=tuple(f"{first} {last}" for last in _LAST_NAMES[:6] for first in _FIRST_NAMES),
    cities=_EN_CITIES,
    topics=_EN_TOPICS,
    sentences=_EN_SENTENCES,
)
_FOREIGN = (_ES, _DE, _FR, _JA, _ZH, _KO)


@dataclass(frozen=True)
class _App:
    name: str
    weight: float
    team: str
    features: tuple[str, ...]
    endpoints: tuple[tuple[str, float], ...]
    tasks: tuple[tuple[str, float], ...]
    user_agent: str
    anonymous_rate: float = 0.03  # requests made without an end user (batch jobs, health checks)


_APPS = (
    _App(
        "support-bot",
        30,
        "customer-success",
        ("chat-widget", "ticket-reply", "email-triage"),
        (("chat", 0.93), ("responses", 0.07)),
        (("support", 50), ("email", 15), ("rag", 20), ("classify", 10), ("summarize", 5)),
        "OpenAI/Python 1.35.3",
    ),
    _App(
        "docs-assistant",
        20,
        "platform",
        ("ask-docs", "search", "indexing"),
        (("chat", 0.6), ("embeddings", 0.3), ("responses", 0.1)),
        (("rag", 60), ("explain", 25), ("summarize", 15)),
        "OpenAI/NodeJS/4.52.0",
    ),
    _App(
        "sales-copilot",
        12,
        "revenue",
        ("email-drafts", "lead-scoring", "call-notes"),
        (("chat", 0.9), ("responses", 0.1)),
        (("email", 50), ("marketing", 25), ("summarize", 25)),
        "langchain/0.2.5",
    ),
    _App(
        "code-review",
        12,
        "developer-experience",
        ("pr-review", "sql-helper"),
        (("chat", 0.8), ("responses", 0.2)),
        (("code", 65), ("sql", 35)),
        "OpenAI/Python 1.40.0",
    ),
    _App(
        "translator",
        10,
        "localization",
        ("translate-ui", "batch-translate"),
        (("chat", 0.7), ("completions", 0.3)),
        (("translate", 100),),
        "python-requests/2.32.3",
    ),
    _App(
        "data-pipeline",
        12,
        "data",
        ("embeddings-backfill", "classification", "extraction"),
        (("embeddings", 0.4), ("chat", 0.45), ("completions", 0.15)),
        (("classify", 45), ("extract", 45), ("summarize", 10)),
        "OpenAI/Python 1.12.0",
        anonymous_rate=0.7,
    ),
    _App(
        "playground",
        4,
        "research",
        ("playground",),
        (("chat", 0.7), ("completions", 0.2), ("responses", 0.1)),
        (("explain", 30), ("code", 20), ("marketing", 20), ("translate", 15), ("summarize", 15)),
        "curl/8.4.0",
    ),
)

_CHAT_MODELS = (
    ("gpt-4o-mini", 30),
    ("gpt-4o-mini-2024-07-18", 6),
    ("gpt-4o", 14),
    ("gpt-4o-2024-08-06", 5),
    ("gpt-4.1-mini", 9),
    ("gpt-4.1", 5),
    ("gpt-4.1-nano", 3),
    ("gpt-3.5-turbo", 4),
    ("gpt-3.5-turbo-0125", 2),
    ("gpt-4-turbo", 2),
    ("gpt-4", 1),
    ("o3-mini", 2.5),
    ("o4-mini", 2.5),
    ("o1", 0.6),
    ("o1-mini", 0.8),
    ("o3", 0.8),
    ("claude-3-5-sonnet-20241022", 3),
    ("mistral-large-latest", 1.2),
    # A fine-tuned model (priced by the table's ft: entries) and two the table cannot price.
    ("ft:gpt-4o-mini-2024-07-18:acme::9fQx2Lk", 1.5),
    ("my-local-llama", 0.8),
    ("llama-3.1-8b-instruct", 0.4),
)
_COMPLETION_MODELS = (
    ("gpt-3.5-turbo-instruct", 60),
    ("text-davinci-003", 25),
    ("davinci-002", 10),
    ("my-local-llama", 5),
)
_EMBEDDING_MODELS = (("text-embedding-3-small", 70), ("text-embedding-3-large", 20), ("text-embedding-ada-002", 10))
_RESPONSES_MODELS = (("gpt-4.1", 35), ("gpt-4o", 25), ("o4-mini", 20), ("o3", 10), ("gpt-4.1-mini", 10))
# What the API reports in its response for an undated name.
_SNAPSHOTS = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "gpt-4-turbo": "gpt-4-turbo-2024-04-09",
    "gpt-4": "gpt-4-0613",
    "o3-mini": "o3-mini-2025-01-31",
    "o4-mini": "o4-mini-2025-04-16",
    "o1": "o1-2024-12-17",
    "o1-mini": "o1-mini-2024-09-12",
    "o3": "o3-2025-04-16",
}
_REASONING_MODELS = frozenset(("o1", "o1-mini", "o3", "o3-mini", "o4-mini"))

_ERROR_BODIES: dict[int, tuple[str, ...]] = {
    400: (
        '{"error":{"message":"This model\'s maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}',
        '{"error":{"message":"Invalid value for \'temperature\': expected a number between 0 and 2.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}',
    ),
    401: (
        '{"error":{"message":"Incorrect API key provided: sk-proj-****7f3a. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}',
    ),
    429: (
        '{"error":{"message":"Rate limit reached for %s in organization org-acme on tokens per min (TPM): Limit 30000, Used 29876, Requested 812. Please try again in 1.624s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}',
        '{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}',
    ),
    500: (
        '{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}',
    ),
    503: (
        '{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}',
    ),
}
_MODEL_LISTING = (
    '{"object":"list","data":['
    + ",".join(
        f'{{"id":"{name}","object":"model","created":{1_700_000_000 + 86_400 * k},"owned_by":"system"}}'
        for k, name in enumerate(("gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3", "o4-mini", "text-embedding-3-small"))
    )
    + "]}"
)

_ALNUM = str.maketrans("+/", "Zq")
_ENVIRONMENTS = (("prod", 0.8), ("staging", 0.15), ("dev", 0.05))
_TIER_CHOICE = _Weighted((("free", 0.6), ("pro", 0.3), ("enterprise", 0.1)))


# --------------------------------------------------------------------------------------------------------------
# Banks built once per process: formatted sentence pools, the codename vocabulary, users and addresses.


@dataclass(frozen=True)
class _Language:
    bank: _LanguageBank
    pool: tuple[str, ...]  # formatted sentences; records draw from here


@dataclass(frozen=True)
class _User:
    id: str
    ip: str
    tier: str


@dataclass(frozen=True)
class _Banks:
    english: _Language
    foreign: tuple[_Language, ...]
    languages: _Weighted[_Language]
    codenames: tuple[str, ...]
    users: tuple[_User, ...]  # in activity order: `_zipf` makes the first ones the heavy users
    ips: tuple[str, ...]
    internal_ips: tuple[str, ...]
    apps: _Weighted[_App]
    app_endpoints: dict[str, _Weighted[str]]
    app_tasks: dict[str, _Weighted[_Task]]
    chat_models: _Weighted[str]
    completion_models: _Weighted[str]
    embedding_models: _Weighted[str]
    responses_models: _Weighted[str]
    errors: _Weighted[int]
    environments: _Weighted[str]
    dates: tuple[str, ...]
    vectors: tuple[str, ...]  # short embedding vectors as JSON text
    pricing: PricingTable = field(default_factory=PricingTable.default)


@functools.cache
def _banks() -> _Banks:
    # One fixed generator for the banks: they are part of the data set's definition, like the phrase lists.
    rng = random.Random(20250701)
    codenames = _make_codenames(rng, 30_000)
    english = _Language(_ENGLISH, _english_pool(rng, codenames))
    foreign = tuple(_Language(bank, _foreign_pool(rng, bank, codenames)) for bank in _FOREIGN)
    every_language = (english, *foreign)
    ok = 1.0 - sum(rate for _, rate in ERROR_STATUSES)
    return _Banks(
        english=english,
        foreign=foreign,
        languages=_Weighted([(language, language.bank.weight) for language in every_language]),
        codenames=codenames,
        users=tuple(_make_user(rng, k) for k in range(400)),
        ips=tuple(_random_ip(rng) for _ in range(3000)),
        internal_ips=tuple(f"10.0.{_between(rng, 0, 3)}.{_between(rng, 2, 254)}" for _ in range(16)),
        apps=_Weighted([(app, app.weight) for app in _APPS]),
        app_endpoints={app.name: _Weighted(app.endpoints) for app in _APPS},
        app_tasks={app.name: _Weighted([(_EN_TASKS[name], w) for name, w in app.tasks]) for app in _APPS},
        chat_models=_Weighted(_CHAT_MODELS),
        completion_models=_Weighted(_COMPLETION_MODELS),
        embedding_models=_Weighted(_EMBEDDING_MODELS),
        responses_models=_Weighted(_RESPONSES_MODELS),
        errors=_Weighted([(0, ok), *ERROR_STATUSES]),
        environments=_Weighted(_ENVIRONMENTS),
        dates=tuple((REFERENCE_TIME - timedelta(days=d)).strftime("%Y-%m-%d") for d in range(WINDOW_DAYS + 30)),
        vectors=tuple(_vector(rng) for _ in range(256)),
    )


_SYLLABLE_ONSETS = _words("b br c ch d dr f fl g gr h j k kl l m n p pr qu r s sh st t th tr v w z")
_SYLLABLE_VOWELS = _words("a e i o u ae ia ou y ei")
_SYLLABLE_CODAS = ("", "", "", "n", "r", "s", "l", "x", "th", "m", "nd", "rk")


def _make_codenames(rng: random.Random, count: int) -> tuple[str, ...]:
    """Made-up words (project and product codenames): the long tail, most of them rare."""
    reserved = {COMMON_WORD, *RARE_PHRASE.split(), *_EN_NOUNS, *_EN_ADJECTIVES, *_EN_VERBS}
    names: dict[str, None] = {}  # a dict, not a set: insertion order must not depend on string hashing
    while len(names) < count:
        word = "".join(
            _uniform(rng, _SYLLABLE_ONSETS) + _uniform(rng, _SYLLABLE_VOWELS) + _uniform(rng, _SYLLABLE_CODAS)
            for _ in range(_between(rng, 2, 3))
        )
        if word not in reserved:
            names[word.capitalize()] = None
    return tuple(names)


class _Fresh(dict[str, str]):
    """Slot values for building the pools: every occurrence of a slot draws anew."""

    def __init__(self, rng: random.Random, bank: _LanguageBank, codenames: tuple[str, ...]) -> None:
        super().__init__()
        self.rng = rng
        self.words: dict[str, Sequence[str]] = {
            "noun": _EN_NOUNS,
            "adj": _EN_ADJECTIVES,
            "verb": _EN_VERBS,
            "adv": _EN_ADVERBS,
            "weekday": _WEEKDAYS,
            "month": _MONTHS,
            "product": _PRODUCTS,
            "company": _COMPANIES,
            "thing": codenames,
            "name": bank.names,
            "city": bank.cities,
            "topic": bank.topics,
        }

    def __missing__(self, key: str) -> str:
        if key == "n":
            return str(_between(self.rng, 2, 60))
        if key == "order":
            return _order_number(self.rng)
        return _zipf(self.rng, self.words[key])


def _english_pool(rng: random.Random, codenames: tuple[str, ...]) -> tuple[str, ...]:
    values = _Fresh(rng, _ENGLISH, codenames)
    grammar = [_uniform(rng, _EN_GRAMMAR).format_map(values) for _ in range(3000)]
    written = [_uniform(rng, _EN_SENTENCES).format_map(values) for _ in range(1000)]
    return tuple(grammar + written)


def _foreign_pool(rng: random.Random, bank: _LanguageBank, codenames: tuple[str, ...]) -> tuple[str, ...]:
    values = _Fresh(rng, bank, codenames)
    return tuple(_uniform(rng, bank.sentences).format_map(values) for _ in range(600))


def _order_number(rng: random.Random) -> str:
    return f"{'ABCDEFGHJK'[int(rng.random() * 10)]}-{_between(rng, 100000, 999999)}"


def _make_user(rng: random.Random, number: int) -> _User:
    if rng.random() < 0.4:
        first, last = _uniform(rng, _FIRST_NAMES), _uniform(rng, _LAST_NAMES)
        domain = _uniform(rng, ("gmail.com", "outlook.com", "acme.io", "example.org", "web.de", "naver.com"))
        user_id = f"{first.lower()}.{last.lower()}{number}@{domain}"
    else:
        user_id = f"user_{rng.getrandbits(32):08x}"
    return _User(user_id, _random_ip(rng), _TIER_CHOICE.pick(rng))


def _random_ip(rng: random.Random) -> str:
    if rng.random() < 0.15:
        groups = [0x2A02, rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(16)]
        groups += [rng.getrandbits(16) for _ in range(4)]
        return str(ipaddress.IPv6Address(":".join(f"{g:x}" for g in groups)))
    first = _uniform(rng, (24, 31, 45, 62, 77, 81, 89, 91, 103, 118, 151, 176, 185, 193, 203, 212))
    return f"{first}.{rng.getrandbits(8)}.{rng.getrandbits(8)}.{_between(rng, 1, 254)}"


def _vector(rng: random.Random) -> str:
    # Real vectors have 1536+ dimensions; logs that keep them all would dwarf the text, so these are shortened.
    return "[" + ",".join(f"{rng.gauss(0, 0.05):.6f}" for _ in range(8)) + "]"


# --------------------------------------------------------------------------------------------------------------
# One record


class _Record(dict[str, str]):
    """One record's slot values, drawn on first use and then kept, so the prompt and the completion agree."""

    def __init__(self, rng: random.Random, banks: _Banks) -> None:
        super().__init__()
        self.rng = rng
        self.banks = banks
        self.language = banks.english
        self.task: _Task = _EN_TASKS["explain"]
        self.target: _Language | None = None  # a translation's language
        self.user: _User | None = None
        self.prompt_index = 0
        self.rare = False  # carries RARE_PHRASE: drawn once per record, whatever the endpoint

    def __missing__(self, key: str) -> str:
        value = self[key] = _SLOTS[key](self)
        return value

    def render(self, templates: Sequence[str]) -> str:
        return _uniform(self.rng, templates).format_map(self)

    def sentences(self, low: int, high: int, language: _Language | None = None) -> str:
        language = language or self.language
        pool = language.pool
        rng = self.rng
        picked = [pool[int(rng.random() * len(pool))] for _ in range(_between(rng, low, high))]
        return language.bank.joiner.join(picked)

    def target_language(self) -> _Language:
        if self.target is None:
            self.target = _uniform(self.rng, self.banks.foreign)
        return self.target


def _review_slot(r: _Record) -> str:
    review, r["sentiment"] = _uniform(r.rng, _REVIEWS)
    return review.format_map(r)


def _email_slot(r: _Record) -> str:
    name = r["name"].lower().replace(" ", ".")
    return f"{name}@example.com" if name.isascii() else "support-user@example.com"


_SLOTS: dict[str, Callable[[_Record], str]] = {
    "name": lambda r: _zipf(r.rng, r.language.bank.names),
    "name2": lambda r: _uniform(r.rng, r.language.bank.names),
    "city": lambda r: _zipf(r.rng, r.language.bank.cities),
    "topic": lambda r: _zipf(r.rng, r.language.bank.topics),
    "topic2": lambda r: _uniform(r.rng, r.language.bank.topics),
    "product": lambda r: _zipf(r.rng, _PRODUCTS),
    "company": lambda r: _zipf(r.rng, _COMPANIES),
    "thing": lambda r: _zipf(r.rng, r.banks.codenames),
    "n": lambda r: str(_between(r.rng, 2, 30)),
    "order": lambda r: _order_number(r.rng),
    "date": lambda r: _uniform(r.rng, r.banks.dates),
    "weekday": lambda r: _uniform(r.rng, _WEEKDAYS),
    "email": _email_slot,
    "context": lambda r: r.sentences(*r.task.context),
    "body": lambda r: r.sentences(*r.task.body),
    "detail": lambda r: r.sentences(1, 3),
    "bullets": lambda r: "- " + "\n- ".join(_uniform(r.rng, r.language.pool) for _ in range(_between(r.rng, 3, 5))),
    "sentence": lambda r: _uniform(r.rng, r.banks.english.pool),
    "lang_name": lambda r: r.target_language().bank.english_name,
    "foreign": lambda r: r.sentences(1, 4, r.target_language()),
    "concept": lambda r: _zipf(r.rng, _EN_CONCEPTS),
    "concept2": lambda r: _uniform(r.rng, _EN_CONCEPTS),
    "audience": lambda r: _uniform(r.rng, _EN_AUDIENCES),
    "doc": lambda r: _uniform(r.rng, _EN_DOC_KINDS),
    "code_task": lambda r: _uniform(r.rng, _CODE_TASKS),
    "ident": lambda r: _uniform(r.rng, _IDENTIFIERS),
    "code": lambda r: r.render(_CODE_SNIPPETS),
    "metric": lambda r: _uniform(r.rng, _SQL_METRICS),
    "dimension": lambda r: _uniform(r.rng, _SQL_DIMENSIONS),
    "table": lambda r: _uniform(r.rng, _SQL_TABLES),
    "sql": lambda r: r.render(_SQL_TEMPLATES),
    "sql_report": lambda r: _SQL_TEMPLATES[0].format_map(r),
    "issue": lambda r: _uniform(r.rng, _ISSUES),
    "email_text": lambda r: r.render(_EMAIL_TEXTS),
    "review": _review_slot,
    "question": lambda r: r.render(_QUESTIONS),
    "sentiment": lambda r: _uniform(r.rng, _SENTIMENTS),
    "yesno": lambda r: _zipf(r.rng, _YES_NO),
    "category": lambda r: _uniform(r.rng, _CATEGORIES),
}


def _build(r: _Record, seed: int, number: int) -> dict[str, Any]:
    rng = r.rng
    banks = r.banks
    app = banks.apps.pick(rng)
    created_ms = _created_ms(rng)
    out: dict[str, Any] = {
        "id": f"req_{seed}_{number:09d}",
        "createdAt": _iso(created_ms),
        "updatedAt": None,
        "ip": None,
        "url": None,
        "method": "POST",
        "status": 200,
        "cached": False,
        "streamed": False,
        "user_id": None,
        "app_id": app.name if rng.random() > 0.02 else None,
        "completion": None,
        "model": None,
        "openai_id": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "request_headers": None,
        "request_body": None,
        "response_headers": None,
        "response_body": None,
        "streamed_response_body": None,
        "cost": None,
    }
    _identify(r, app, out)
    out["request_headers"] = _request_headers(r, app)
    listing = rng.random() < MODEL_LISTING_RATE
    latency_ms = _list_models(out) if listing else _exchange(r, app, out, created_ms // 1000)
    out["updatedAt"] = _iso(created_ms + latency_ms)
    out["response_headers"] = _response_headers(r, out, latency_ms)
    return out


def _created_ms(rng: random.Random) -> int:
    # More traffic in recent days (a growing product) and in working hours (a peak at 14:00 UTC).
    days_ago = int(WINDOW_DAYS * (1.0 - rng.random() ** 0.5))
    second_of_day = rng.triangular(0, 86_400, 50_400)
    return _REFERENCE_MS - (days_ago + 1) * _DAY_MS + int(second_of_day * 1000)


def _iso(epoch_ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=epoch_ms)).isoformat(timespec="milliseconds")[:-6] + "Z"


def _identify(r: _Record, app: _App, out: dict[str, Any]) -> None:
    rng = r.rng
    banks = r.banks
    if rng.random() >= app.anonymous_rate:
        r.user = _zipf(rng, banks.users)
        out["user_id"] = r.user.id
    if app.name == "data-pipeline":
        out["ip"] = _uniform(rng, banks.internal_ips)
    elif r.user is not None and rng.random() < 0.9:
        out["ip"] = r.user.ip
    else:
        out["ip"] = _uniform(rng, banks.ips)


def _request_headers(r: _Record, app: _App) -> dict[str, str]:
    rng = r.rng
    headers = {"content-type": "application/json", "user-agent": app.user_agent}
    if rng.random() >= METADATA_RATE:
        return headers
    headers["x-metadata-env"] = r.banks.environments.pick(rng)
    if rng.random() < 0.9:
        headers["x-metadata-feature"] = _uniform(rng, app.features)
    if rng.random() < 0.7:
        headers["x-metadata-team"] = app.team
    if r.user is not None and rng.random() < 0.6:
        headers["x-metadata-customer_tier"] = r.user.tier
    if rng.random() < 0.3:
        headers["x-metadata-session_id"] = f"sess_{rng.getrandbits(40):010x}"
    if rng.random() < 0.25:
        headers["x-metadata-prompt_version"] = f"v{_between(rng, 1, 9)}"
    return headers


def _response_headers(r: _Record, out: dict[str, Any], latency_ms: int) -> dict[str, str]:
    headers = {
        "content-type": "text/event-stream" if out["streamed"] else "application/json",
        "openai-processing-ms": str(latency_ms),
        "x-request-id": f"req_{r.rng.getrandbits(128):032x}",
    }
    if out["cached"]:
        headers["x-cache"] = "HIT"
    return headers


def _list_models(out: dict[str, Any]) -> int:
    out["method"] = "GET"
    out["url"] = "/v1/models"
    out["response_body"] = _MODEL_LISTING
    return 120


def _exchange(r: _Record, app: _App, out: dict[str, Any], created: int) -> int:
    """Fills in the request and its outcome; returns the latency in milliseconds."""
    rng = r.rng
    banks = r.banks
    endpoint = banks.app_endpoints[app.name].pick(rng)
    r.language = banks.languages.pick(rng)
    if r.language.bank.task is not None:
        r.task = r.language.bank.task
    else:
        r.task = banks.app_tasks[app.name].pick(rng)
    r.rare = rng.random() < RARE_PHRASE_RATE
    status = banks.errors.pick(rng)
    streamed = endpoint != "embeddings" and rng.random() < STREAMED_RATE
    build = _ENDPOINTS[endpoint]
    if status:
        build(r, out, created, False)
        return _failure(r, status, out)
    out["streamed"] = streamed
    out["cached"] = rng.random() < CACHED_RATE
    build(r, out, created, streamed)
    _explicit_cost(r, out)
    return _latency(r, out)


def _failure(r: _Record, status: int, out: dict[str, Any]) -> int:
    """Turns a built exchange into the API's error: the request as sent, no completion, usage or provider id."""
    out["status"] = status
    out["completion"] = None
    out["openai_id"] = None
    out["prompt_tokens"] = None
    out["completion_tokens"] = None
    out["streamed_response_body"] = None
    body = _uniform(r.rng, _ERROR_BODIES[status])
    out["response_body"] = body.replace("%s", out["model"]) if "%s" in body else body
    return _between(r.rng, 20, 400) if status < 500 else _between(r.rng, 1_000, 30_000)


def _user_text(r: _Record) -> str:
    """The user's request, with the rare phrase and a pasted long document at their (low) rates."""
    rng = r.rng
    prompts = r.task.prompts
    r.prompt_index = int(rng.random() * len(prompts))
    text = prompts[r.prompt_index].format_map(r) + _rare_phrase(r)
    if rng.random() < LONG_BODY_RATE:
        text += "\n\n" + _long_document(r)
    return text


def _rare_phrase(r: _Record) -> str:
    """A sentence with RARE_PHRASE for the record drawn to carry it (once), else nothing."""
    if not r.rare:
        return ""
    r.rare = False
    return " " + _uniform(r.rng, _RARE_CARRIERS).format(phrase=RARE_PHRASE)


def _answer_text(r: _Record) -> str:
    answers = r.task.answers
    return answers[r.prompt_index].format_map(r) if r.task.paired else r.render(answers)


def _long_document(r: _Record) -> str:
    target = _between(r.rng, 10_000, 60_000)
    parts: list[str] = []
    size = 0
    while size < target:
        paragraph = r.sentences(3, 8)
        parts.append(paragraph)
        size += len(paragraph.encode()) + 2
    return "\n\n".join(parts)


def _tokens(r: _Record, chars: int, language: _Language | None = None) -> int:
    per_token = (language or r.language).bank.chars_per_token
    return max(1, int(chars / per_token * (0.9 + 0.2 * r.rng.random())))


def _chat(r: _Record, out: dict[str, Any], created: int, streamed: bool) -> None:
    rng = r.rng
    model = r.banks.chat_models.pick(rng)
    messages: list[str] = []
    chars = 0
    if rng.random() < SYSTEM_MESSAGE_RATE:
        system = r.render(r.task.systems)
        messages.append('{"role":"system","content":' + encode_basestring(system) + "}")
        chars += len(system)
    question = _user_text(r)
    if r.task.followups and rng.random() < MULTI_TURN_RATE:
        earlier = _answer_text(r)
        messages.append(_user_message(r, question))
        messages.append('{"role":"assistant","content":' + encode_basestring(earlier) + "}")
        chars += len(question) + len(earlier)
        question = r.render(r.task.followups)
        answer = r.render(r.task.followup_answers)
    else:
        answer = _answer_text(r)
    messages.append(_user_message(r, question))
    chars += len(question)
    body = '{"model":' + encode_basestring(model) + ',"messages":[' + ",".join(messages) + "]"
    body += _sampling_parameters(r, streamed)
    out["url"] = "/v1/chat/completions"
    out["model"] = model
    out["request_body"] = body + "}"
    answer = _answer(r, out, model, answer, 3 + 4 * len(messages) + _tokens(r, chars))
    openai_id = out["openai_id"] = "chatcmpl-" + _alnum(r.rng)
    snapshot = encode_basestring(_SNAPSHOTS.get(model, model))
    if streamed:
        chunk = f'data: {{"id":"{openai_id}","object":"chat.completion.chunk","created":{created},"model":{snapshot},"choices":[{{"index":0,"delta":'
        first = chunk + '{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
        last = chunk + '{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
        tail = '},"finish_reason":null}]}\n\n'
        out["streamed_response_body"] = _sse(r, answer, chunk + '{"content":', tail, first, last)
    else:
        out["response_body"] = (
            f'{{"id":"{openai_id}","object":"chat.completion","created":{created},"model":{snapshot},'
            f'"choices":[{{"index":0,"message":{{"role":"assistant","content":{encode_basestring(answer)},"refusal":null}},'
            f'"logprobs":null,"finish_reason":"stop"}}],{_usage(out)}}}'
        )


def _user_message(r: _Record, text: str) -> str:
    rng = r.rng
    if rng.random() >= CONTENT_PARTS_RATE:
        return '{"role":"user","content":' + encode_basestring(text) + "}"
    parts = '[{"type":"text","text":' + encode_basestring(text) + "}"
    if rng.random() < 0.3:
        parts += f',{{"type":"image_url","image_url":{{"url":"https://cdn.example.com/uploads/{rng.getrandbits(48):012x}.png"}}}}'
    return '{"role":"user","content":' + parts + "]}"


def _sampling_parameters(r: _Record, streamed: bool) -> str:
    rng = r.rng
    text = ""
    if rng.random() < 0.6:
        text += ',"temperature":' + _uniform(rng, ("0", "0.2", "0.7", "1"))
    if rng.random() < 0.2:
        text += ',"max_tokens":' + _uniform(rng, ("256", "512", "1024", "4096"))
    if r.user is not None and rng.random() < 0.15:
        text += ',"user":' + encode_basestring(r.user.id)
    if streamed:
        text += ',"stream":true'
    return text


def _answer(r: _Record, out: dict[str, Any], model: str, answer: str, prompt_tokens: int) -> str:
    """Records the completion (returned: now and then a long one) and the token counts; reasoning models bill
    their hidden reasoning as completion tokens."""
    rng = r.rng
    if rng.random() < LONG_BODY_RATE / 4:
        answer += "\n\n" + _long_document(r)
    completion_language = r.target if r.task is _TRANSLATE else None
    completion_tokens = _tokens(r, len(answer), completion_language)
    if model in _REASONING_MODELS:
        completion_tokens += _between(rng, 64, 4096)
    out["completion"] = answer
    out["prompt_tokens"] = prompt_tokens
    out["completion_tokens"] = completion_tokens
    return answer


def _usage(out: dict[str, Any]) -> str:
    prompt, completion = out["prompt_tokens"], out["completion_tokens"]
    return f'"usage":{{"prompt_tokens":{prompt},"completion_tokens":{completion},"total_tokens":{prompt + completion}}}'


def _sse(r: _Record, text: str, head: str, tail: str, first: str = "", last: str = "data: [DONE]\n\n") -> str:
    """Server-sent events as the proxy captured the stream: `head + "<piece as JSON>" + tail` per piece of text."""
    # Pieces of a few tokens, but not more than ~48 events however long the text.
    size = max(4 if r.language.bank.joiner == "" else 16, len(text) // 48 + 1)
    pieces = (head + encode_basestring(text[start : start + size]) + tail for start in range(0, len(text), size))
    return first + "".join(pieces) + last


def _completions(r: _Record, out: dict[str, Any], created: int, streamed: bool) -> None:
    rng = r.rng
    model = r.banks.completion_models.pick(rng)
    prompt = _user_text(r) + "\n\n"
    answer = _answer_text(r)
    out["url"] = "/v1/completions"
    out["model"] = model
    out["request_body"] = (
        '{"model":'
        + encode_basestring(model)
        + ',"prompt":'
        + encode_basestring(prompt)
        + _sampling_parameters(r, streamed)
        + "}"
    )
    answer = _answer(r, out, model, answer, _tokens(r, len(prompt)))
    openai_id = out["openai_id"] = "cmpl-" + _alnum(rng)
    if streamed:
        head = f'data: {{"id":"{openai_id}","object":"text_completion","created":{created},"model":"{model}","choices":[{{"text":'
        out["streamed_response_body"] = _sse(r, answer, head, ',"index":0,"logprobs":null,"finish_reason":null}]}\n\n')
    else:
        out["response_body"] = (
            f'{{"id":"{openai_id}","object":"text_completion","created":{created},"model":"{model}",'
            f'"choices":[{{"text":{encode_basestring(answer)},"index":0,"logprobs":null,"finish_reason":"stop"}}],{_usage(out)}}}'
        )


def _responses(r: _Record, out: dict[str, Any], created: int, streamed: bool) -> None:
    rng = r.rng
    model = r.banks.responses_models.pick(rng)
    text = _user_text(r)
    answer = _answer_text(r)
    chars = len(text)
    if rng.random() < 0.5:
        body = '{"model":' + encode_basestring(model) + ',"input":' + encode_basestring(text)
    else:
        body = (
            '{"model":'
            + encode_basestring(model)
            + ',"input":[{"role":"user","content":'
            + encode_basestring(text)
            + "}]"
        )
    if rng.random() < SYSTEM_MESSAGE_RATE:
        instructions = r.render(r.task.systems)
        body += ',"instructions":' + encode_basestring(instructions)
        chars += len(instructions)
    out["url"] = "/v1/responses"
    out["model"] = model
    out["request_body"] = body + (',"stream":true}' if streamed else "}")
    answer = _answer(r, out, model, answer, 8 + _tokens(r, chars))
    openai_id = out["openai_id"] = f"resp_{rng.getrandbits(192):048x}"
    message_id = f"msg_{rng.getrandbits(192):048x}"
    if streamed:
        head = f'event: response.output_text.delta\ndata: {{"type":"response.output_text.delta","item_id":"{message_id}","output_index":0,"content_index":0,"delta":'
        done = f'event: response.completed\ndata: {{"type":"response.completed","response":{{"id":"{openai_id}","status":"completed"}}}}\n\n'
        out["streamed_response_body"] = _sse(r, answer, head, "}\n\n", last=done)
        return
    prompt_tokens, completion_tokens = out["prompt_tokens"], out["completion_tokens"]
    reasoning = (
        f'{{"type":"reasoning","id":"rs_{rng.getrandbits(96):024x}","summary":[]}},'
        if model in _REASONING_MODELS
        else ""
    )
    out["response_body"] = (
        f'{{"id":"{openai_id}","object":"response","created_at":{created},"status":"completed","model":"{_SNAPSHOTS.get(model, model)}",'
        f'"output":[{reasoning}{{"type":"message","id":"{message_id}","status":"completed","role":"assistant",'
        f'"content":[{{"type":"output_text","text":{encode_basestring(answer)},"annotations":[]}}]}}],'
        f'"usage":{{"input_tokens":{prompt_tokens},"output_tokens":{completion_tokens},"total_tokens":{prompt_tokens + completion_tokens}}}}}'
    )


def _embeddings(r: _Record, out: dict[str, Any], created: int, streamed: bool) -> None:
    rng = r.rng
    model = r.banks.embedding_models.pick(rng)
    single = rng.random() < 0.6
    if single:
        inputs = [_user_text(r) if rng.random() < 0.3 else r.sentences(1, 6)]
    else:
        inputs = [r.sentences(1, 3) for _ in range(_between(rng, 2, 16))]
    inputs[0] += _rare_phrase(r)
    if single:
        input_json = encode_basestring(inputs[0])
    else:
        input_json = "[" + ",".join(encode_basestring(text) for text in inputs) + "]"
    tokens = _tokens(r, sum(len(text) for text in inputs))
    data = ",".join(
        f'{{"object":"embedding","index":{k},"embedding":{_uniform(rng, r.banks.vectors)}}}' for k in range(len(inputs))
    )
    out["url"] = "/v1/embeddings"
    out["model"] = model
    out["request_body"] = '{"model":' + encode_basestring(model) + ',"input":' + input_json + "}"
    out["response_body"] = (
        f'{{"object":"list","data":[{data}],"model":"{model}","usage":{{"prompt_tokens":{tokens},"total_tokens":{tokens}}}}}'
    )
    out["prompt_tokens"] = tokens  # embeddings report no completion tokens at all


# Each fills in `out` for one request to its endpoint: (record, out, created epoch seconds, streamed).
_ENDPOINTS: dict[str, Callable[[_Record, dict[str, Any], int, bool], None]] = {
    "chat": _chat,
    "completions": _completions,
    "responses": _responses,
    "embeddings": _embeddings,
}


def _alnum(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(24)).decode().translate(_ALNUM)[:29]


def _explicit_cost(r: _Record, out: dict[str, Any]) -> None:
    # Most records leave cost to the loader's pricing; a proxy's cache hits are free and batch jobs half price.
    if out["cached"]:
        out["cost"] = 0.0
    elif r.rng.random() < BATCH_PRICED_RATE:
        listed = r.banks.pricing.price(out["model"], out["prompt_tokens"], out["completion_tokens"])
        out["cost"] = None if listed is None else round(listed / 2, 8)


def _latency(r: _Record, out: dict[str, Any]) -> int:
    rng = r.rng
    if out["cached"]:
        return _between(rng, 5, 40)
    per_token_ms = 25 if out["model"] in _REASONING_MODELS else 12
    generated = out["completion_tokens"] or 0
    return 150 + int(generated * per_token_ms * (0.5 + rng.random()))

"""The fixed query mix, declared once and rendered three ways: the API's query string (which the service turns into
an OpenSearch body with `service.query.build_search_body`), and SQL as the original system ran it (`naive`) and as
a tuned PostgreSQL would (`tuned`).

Every query asks for page size 20 with an exact total count. The words come from `loaders.synthetic`'s constants;
the end user of Q5 is picked from the data (see `pick_user`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from bench import pgschema
from loaders import synthetic

PAGE_SIZE = 20
DEEP_PAGE = 500  # offset 9,980: the last page the API serves at page size 20 (max_result_window 10,000)
USER_SAMPLE = 5000  # records of the seed's stream that Q5's user is picked from
USER_RANK = 5  # Q5 asks for the 5th most active end user: a heavy user, a few percent of all requests

PgVariant = Literal["naive", "tuned"]
# How tuned SQL searches: full-text GIN, trigram GIN over the concatenated text, or (when no index can help) the
# original per-column ILIKE, which stops at the first column that matches.
SearchPlan = Literal["fts", "trigram", "substring"]


@dataclass(frozen=True)
class Query:
    """One question of the mix. `search` is the API's `search` text; `plan` says how tuned SQL searches for it."""

    id: str
    title: str
    search: str | None = None
    plan: SearchPlan = "fts"
    user_id: str | None = None
    model: str | None = None
    statuses: tuple[int, ...] = ()
    cost_range: tuple[float, float] | None = None
    sort_by: str = "createdAt"
    sort_order: str = "desc"
    page: int = 1
    semantics: str = ""
    same_semantics: bool = False  # PostgreSQL must count exactly what OpenSearch counts (no text search involved)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def filter_json(self) -> str | None:
        rules: dict[str, Any] = {}
        if self.model is not None:
            rules["model"] = self.model
        if self.statuses:
            rules["status"] = list(self.statuses)
        if self.cost_range is not None:
            rules["cost"] = {"gte": self.cost_range[0], "lte": self.cost_range[1]}
        return json.dumps(rules, separators=(",", ":")) if rules else None

    def api_params(self) -> dict[str, str]:
        """The query string of `GET /api/v1/requests`, as strings, in a fixed order."""
        params: dict[str, str] = {}
        if self.search is not None:
            params["search"] = self.search
        if self.user_id is not None:
            params["user_id"] = self.user_id
        filter_text = self.filter_json()
        if filter_text is not None:
            params["filter"] = filter_text
        params["sortBy"] = self.sort_by
        params["sortOrder"] = self.sort_order
        params["pageSize"] = str(PAGE_SIZE)
        params["pageNumber"] = str(self.page)
        return params

    def sql(self, variant: PgVariant) -> tuple[str, str, dict[str, Any]]:
        """(count SQL, page SQL, parameters) for the PostgreSQL variant."""
        conditions = ['"userId" = %(tenant)s']
        params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": self.offset}
        if self.user_id is not None:
            conditions.append("user_id = %(user_id)s")
            params["user_id"] = self.user_id
        if self.model is not None:
            conditions.append("model = %(model)s")
            params["model"] = self.model
        if self.statuses:
            conditions.append("status = ANY(%(statuses)s)")
            params["statuses"] = list(self.statuses)
        if self.cost_range is not None:
            conditions.append("cost >= %(cost_gte)s AND cost <= %(cost_lte)s")
            params["cost_gte"], params["cost_lte"] = self.cost_range
        if self.search is not None:
            conditions.append(self._search_condition(variant, params))
        where = " AND ".join(conditions)
        column = pgschema.quote(self.sort_by)
        direction = "DESC" if self.sort_order == "desc" else "ASC"
        # OpenSearch puts documents without the sort value last in either direction.
        nulls = " NULLS LAST" if direction == "DESC" and self.sort_by not in pgschema.NOT_NULL else ""
        order = f"{column} {direction}{nulls}, id {direction}"
        count_sql = f'SELECT count(*) FROM "Request" WHERE {where}'
        page_sql = (
            f'SELECT {pgschema.RESPONSE_COLUMNS} FROM "Request" WHERE {where} '
            f"ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"
        )
        return count_sql, page_sql, params

    def _search_condition(self, variant: PgVariant, params: dict[str, Any]) -> str:
        assert self.search is not None
        return pg_search_condition(self.search, variant, self.plan, params)


def pg_search_condition(search: str, variant: PgVariant, plan: SearchPlan, params: dict[str, Any]) -> str:
    """The SQL condition for the API's `search` under `variant` (its values go into `params`); the analytics
    benchmark's search query uses it too."""
    params["search"] = search
    if variant == "naive" or plan != "fts":
        # The original: a case-insensitive substring (a quoted phrase without its quotes).
        params["pattern"] = "%" + like_escape(search.strip('"')) + "%"
        per_column = variant == "naive" or plan == "substring"
        text = pgschema.NAIVE_TEXT_COLUMNS if per_column else (pgschema.SEARCH_TEXT,)
        ors = " OR ".join(f"{expr} ILIKE %(pattern)s" for expr in text)
        return f"({ors} OR openai_id = %(search)s)"
    return f"({pgschema.SEARCH_TSVECTOR} @@ websearch_to_tsquery('simple', %(search)s) OR openai_id = %(search)s)"


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def pick_user(seed: int) -> str:
    """Q5's end user: the USER_RANK-th most frequent `user_id` among the seed's first USER_SAMPLE records."""
    counts = Counter(r["user_id"] for r in synthetic.generate(USER_SAMPLE, seed=seed) if r.get("user_id"))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    user: str = ranked[min(USER_RANK, len(ranked)) - 1][0]
    return user


SUBSTRING_NOTE = (
    "Text search differs by design: OpenSearch matches analyzed tokens (lowercased, ASCII-folded, CJK bigrams), "
    "ILIKE matches any substring of the raw text (so `{w}` also finds `{w}s`, `un{w}` and JSON keys), "
    "and websearch_to_tsquery('simple') matches PostgreSQL's own tokens. Counts agree only roughly."
)


def query_mix(seed: int) -> list[Query]:
    user = pick_user(seed)
    common, rare, cjk = synthetic.COMMON_WORD, synthetic.RARE_PHRASE, synthetic.CJK_WORD
    return [
        Query(
            "Q1",
            f"common word `{common}`, default sort (createdAt desc)",
            search=common,
            semantics=SUBSTRING_NOTE.format(w=common),
        ),
        Query(
            "Q2",
            f'rare quoted phrase `"{rare}"`',
            search=f'"{rare}"',
            plan="trigram",
            semantics="Phrase: OpenSearch matches the words in sequence, ILIKE the exact substring; counts should "
            "agree. Tuned SQL uses the trigram index: a tsquery phrase (`<->`) must re-parse every candidate's text "
            "for word positions (the GIN index has none), ten times slower here.",
        ),
        Query(
            "Q3",
            "filter only: model gpt-4o, status in (200, 429), 0.0005 <= cost <= 0.001; sort by cost desc",
            model="gpt-4o",
            statuses=(200, 429),
            cost_range=(0.0005, 0.001),
            sort_by="cost",
            same_semantics=True,
            semantics="Same question on both sides: counts must agree.",
        ),
        Query(
            "Q4",
            "search `refund` + filter (model gpt-4o-mini, status 200), sort by createdAt asc",
            search="refund",
            model="gpt-4o-mini",
            statuses=(200,),
            sort_order="asc",
            semantics=SUBSTRING_NOTE.format(w="refund"),
        ),
        Query(
            "Q5",
            f"one end user's latest (user_id = the {USER_RANK}th most active user)",
            user_id=user,
            same_semantics=True,
            semantics="Same question on both sides: counts must agree.",
        ),
        Query(
            "Q6",
            f"deep page: no search, default sort, page {DEEP_PAGE} (offset {(DEEP_PAGE - 1) * PAGE_SIZE})",
            page=DEEP_PAGE,
            same_semantics=True,
            semantics="Same question on both sides: counts must agree (every document of the tenant).",
        ),
        Query(
            "Q7",
            f"CJK search `{cjk}`",
            search=cjk,
            plan="substring",
            semantics="OpenSearch matches the CJK bigram, ILIKE the substring: the same here (a two-character word). "
            "No PostgreSQL index helps: the text search parser does not split CJK runs into words, and pg_trgm "
            "needs three characters to probe its index. Tuned SQL is therefore the original per-column ILIKE "
            "(a sequential scan; it beats ILIKE over the concatenated text, which must build every row's text).",
        ),
    ]

"""The original system's PostgreSQL table (Prisma's `"Request"`), read in primary-key order with a server-side
cursor so memory stays flat however large the table is.

Columns keep the spec's names, so a row is a raw record as it is; `"userId"` (the account) becomes the tenant in
the shared code when no `--tenant` is given. Columns the document model does not know are not selected.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from loaders.sources.base import RECORD_FIELDS, Position, SourceError, SourceRecord, SourceSize

KEY_COLUMN = "id"
DEFAULT_TABLE = "Request"
FETCH_ROWS = 2000  # rows per round trip of the server-side cursor
CONNECT_TIMEOUT_SECONDS = 10


class PostgresSource:
    kind = "postgres"

    def __init__(
        self, dsn: str, table: str = DEFAULT_TABLE, schema: str = "public", fetch_rows: int = FETCH_ROWS
    ) -> None:
        self.dsn = dsn
        self.table = table
        self.schema = schema
        self.fetch_rows = fetch_rows
        self._consumed = 0
        self._columns: list[str] | None = None

    @property
    def identity(self) -> str:
        return f"{self.kind}:{redact(self.dsn)}#{self.schema}.{self.table}"

    @property
    def name(self) -> str:
        return self.table

    @property
    def consumed(self) -> int:
        return self._consumed

    def connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS, row_factory=dict_row)
        except psycopg.Error as error:
            raise SourceError(f"cannot connect to PostgreSQL at {redact(self.dsn)}: {error}") from error

    def columns(self, connection: psycopg.Connection[dict[str, Any]]) -> list[str]:
        """The table's columns the model knows; missing key columns are fatal, unknown ones are left out."""
        if self._columns is None:
            found = [
                row["column_name"]
                for row in connection.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                    (self.schema, self.table),
                )
            ]
            if not found:
                raise SourceError(f'no table "{self.schema}"."{self.table}" at {redact(self.dsn)}')
            for required in (KEY_COLUMN, "createdAt"):
                if required not in found:
                    raise SourceError(f'table "{self.table}" has no "{required}" column')
            self._columns = [name for name in found if name in RECORD_FIELDS]
        return self._columns

    def size(self, resume_after: Position | None) -> SourceSize | None:
        with self.connect() as connection:
            self.columns(connection)
            query = sql.SQL("SELECT count(*) AS n FROM {table}").format(table=self._table())
            params: tuple[Any, ...] = ()
            if resume_after is not None:
                query = sql.SQL("{query} WHERE {key} > %s").format(query=query, key=sql.Identifier(KEY_COLUMN))
                params = (resume_after.value,)
            row = connection.execute(query, params).fetchone()
        return SourceSize(total=int(row["n"]) if row else 0, unit="records")

    def records(self, resume_after: Position | None) -> Generator[SourceRecord, None, None]:
        with self.connect() as connection:
            columns = self.columns(connection)
            query = sql.SQL("SELECT {columns} FROM {table}").format(
                columns=sql.SQL(", ").join(sql.Identifier(name) for name in columns), table=self._table()
            )
            params: tuple[Any, ...] = ()
            if resume_after is not None:
                query = sql.SQL("{query} WHERE {key} > %s").format(query=query, key=sql.Identifier(KEY_COLUMN))
                params = (resume_after.value,)
            query = sql.SQL("{query} ORDER BY {key}").format(query=query, key=sql.Identifier(KEY_COLUMN))
            # A named cursor lives on the server: rows arrive `fetch_rows` at a time instead of all at once.
            with connection.transaction(), connection.cursor(name="llmsearch_load") as cursor:
                cursor.itersize = self.fetch_rows
                try:
                    cursor.execute(query, params)
                    for row in cursor:
                        self._consumed += 1
                        key = row.get(KEY_COLUMN)
                        position = Position("key", key if isinstance(key, int) else str(key))
                        # NULL columns are absent rather than null, so the model's defaults apply.
                        data = {name: value for name, value in row.items() if value is not None}
                        yield SourceRecord(position, data=data, raw=row)
                except psycopg.Error as error:
                    raise SourceError(f"reading {self.table}: {error}") from error

    def _table(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.table))


def redact(dsn: str) -> str:
    """The DSN without its password, for messages and checkpoints."""
    dsn = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", dsn)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn)

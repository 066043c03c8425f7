"""Model instances from a hand-written SELECT (issue 14's hot path).

Building a SELECT through the ORM (resolving lookups, joins, the select list, the ordering) costs
more CPU than running it on this machine: on the requests every caller sends (the API token's read)
a statement written once per database and process is cheaper. These helpers keep such a statement
honest: the column list comes from the model's own fields, and every value goes through the same
database converters the ORM applies (SQLite's datetimes, JSON, decimals), so ``Model.from_db`` gets
what a queryset would have given it. Only for reads whose SQL lives beside the code that owns it,
with a test pinning its result on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence


class Columns:
    """The concrete columns of ``model`` under the table alias ``alias``, and how to turn a slice
    of a result row back into an instance."""

    def __init__(self, model, alias: str, connection):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        qn = connection.ops.quote_name
        self.sql = ", ".join(f"{alias}.{qn(f.column)}" for f in self.fields)
        self.converters = []
        for i, f in enumerate(self.fields):
            col = f.get_col(alias)
            convs = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
            if convs:
                self.converters.append((i, col, convs))

    def __len__(self) -> int:
        return len(self.fields)

    def instance(self, values: Sequence, db: str, connection):
        """The instance of this slice of a row (``values``: exactly this model's columns)."""
        values = list(values)
        for i, col, convs in self.converters:
            value = values[i]
            for conv in convs:
                value = conv(value, col, connection)
            values[i] = value
        return self.model.from_db(db, self.attnames, values)


class RowConverter:
    """The database converters of a hand-written SELECT's columns, given as model fields in select
    order (``fields``), applied to each row: what the ORM's ``values_list`` would have returned."""

    def __init__(self, fields, connection):
        self.connection = connection
        self.steps = []
        for i, f in enumerate(fields):
            col = f.get_col(f.model._meta.db_table)
            convs = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
            if convs:
                self.steps.append((i, col, convs))

    def __call__(self, row: Sequence) -> list:
        values = list(row)
        for i, col, convs in self.steps:
            value = values[i]
            for conv in convs:
                value = conv(value, col, self.connection)
            values[i] = value
        return values

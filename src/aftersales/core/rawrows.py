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

BIGINT_MAX = 2**63 - 1


def fits_key(value) -> bool:
    """Whether ``value`` can be a row's id at all. The ORM answers "no such row" for an integer
    beyond the database's 64 bits; a hand-written statement would hand it to the driver, which
    refuses it (SQLite: OverflowError). Callers answer "not found" instead."""
    return isinstance(value, int) and -BIGINT_MAX - 1 <= value <= BIGINT_MAX


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


class JoinedRead:
    """``Model.objects.select_related(*relations).get(pk=...)`` as one statement written once:
    the same joins (inner for a required foreign key, outer otherwise and for reverse one-to-ones),
    every concrete column of each model, and the instances linked as select_related links them
    (both directions of a one-to-one). ``where`` adds conditions on the base table (alias ``t0``)
    with their parameters; ``suffix`` ends the statement (``FOR UPDATE OF t0``)."""

    def __init__(self, model, relations, connection):
        qn = connection.ops.quote_name
        self.model = model
        self.parts = [(None, None, Columns(model, "t0", connection))]  # (parent index, field, columns)
        joins = []
        aliases = {(): 0}
        inner = {(): True}
        for path in relations:
            names = tuple(path.split("__"))
            for depth in range(1, len(names) + 1):
                key = names[:depth]
                if key in aliases:
                    continue
                parent_key = key[:-1]
                parent = aliases[parent_key]
                parent_model = self.parts[parent][2].model
                field = parent_model._meta.get_field(key[-1])
                alias = f"t{len(self.parts)}"
                related = field.related_model
                if field.one_to_one and not field.concrete:  # reverse one-to-one: the child row points here
                    on = f"{alias}.{qn(field.field.column)} = t{parent}.{qn(parent_model._meta.pk.column)}"
                    is_inner = False
                else:
                    on = f"{alias}.{qn(related._meta.pk.column)} = t{parent}.{qn(field.column)}"
                    is_inner = inner[parent_key] and not field.null
                inner[key] = is_inner
                joins.append(f"{'INNER' if is_inner else 'LEFT OUTER'} JOIN {qn(related._meta.db_table)} {alias} ON {on}")
                aliases[key] = len(self.parts)
                self.parts.append((parent, field, Columns(related, alias, connection)))
        self.select = (f"SELECT {', '.join(c.sql for _p, _f, c in self.parts)} "
                       f"FROM {qn(model._meta.db_table)} t0 {' '.join(joins)} "
                       f"WHERE t0.{qn(model._meta.pk.column)} = %s")

    def get(self, connection, pk, *, where: str = "", params=(), suffix: str = ""):
        """The instance with its relations held, or None when no row matches."""
        with connection.cursor() as cursor:
            cursor.execute(f"{self.select}{' AND ' + where if where else ''}{' ' + suffix if suffix else ''}",
                           [pk, *params])
            row = cursor.fetchone()
        if row is None:
            return None
        objs = []
        start = 0
        for parent, field, cols in self.parts:
            values = row[start:start + len(cols)]
            start += len(cols)
            obj = None
            owner = objs[parent] if parent is not None else None
            if parent is None or (owner is not None and values[cols.attnames.index(cols.model._meta.pk.attname)] is not None):
                obj = cols.instance(values, connection.alias, connection)
            objs.append(obj)
            if owner is None:
                continue
            field.set_cached_value(owner, obj)
            if obj is not None and field.one_to_one:
                # select_related links a one-to-one both ways.
                (field.field if not field.concrete else field.remote_field).set_cached_value(obj, owner)
        return objs[0]


_CHILD_READS: dict = {}


def children(model, fk_name: str, parent, order_by: tuple[str, ...], connection) -> list:
    """``parent.<related>.order_by(*order_by)`` as a statement written once per model and database:
    every row of ``model`` whose foreign key ``fk_name`` points at ``parent``, as instances that
    hold ``parent`` (as a related manager's rows do). ``order_by``: field names, "-" for descending."""
    key = (model, fk_name, order_by, connection.vendor)
    if key not in _CHILD_READS:
        qn = connection.ops.quote_name
        cols = Columns(model, "c", connection)
        ordering = ", ".join(f"c.{qn(model._meta.get_field(n.lstrip('-')).column)}{' DESC' if n.startswith('-') else ''}"
                             for n in order_by)
        sql = (f"SELECT {cols.sql} FROM {qn(model._meta.db_table)} c "
               f"WHERE c.{qn(model._meta.get_field(fk_name).column)} = %s" + (f" ORDER BY {ordering}" if ordering else ""))
        _CHILD_READS[key] = (sql, cols, model._meta.get_field(fk_name))
    sql, cols, fk = _CHILD_READS[key]
    with connection.cursor() as cursor:
        cursor.execute(sql, [parent.pk])
        rows = cursor.fetchall()
    out = []
    for row in rows:
        obj = cols.instance(row, connection.alias, connection)
        fk.set_cached_value(obj, parent)
        out.append(obj)
    return out

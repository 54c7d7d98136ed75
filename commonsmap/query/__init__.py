"""Filters of the OGC API (CQL2 text and JSON, property filters, ``datetime``) compiled into safe SQLite SQL.

Public names
------------
Queryable, queryables_of
    The properties of a layer a filter may name.
SqlFilter, compile_cql2, equality_filter, datetime_filter
    Compile filters into SQL with ``?`` parameters.
register_sql_functions
    Add to an SQLite connection the functions compiled spatial and CASEI tests call.
"""

from commonsmap.query.cql2 import (
    MAX_DEPTH,
    MAX_LENGTH,
    SqlFilter,
    compile_cql2,
    datetime_filter,
    equality_filter,
    register_sql_functions,
)
from commonsmap.query.queryables import Queryable, queryables_of

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Queryable",
    "SqlFilter",
    "compile_cql2",
    "datetime_filter",
    "equality_filter",
    "queryables_of",
    "register_sql_functions",
]

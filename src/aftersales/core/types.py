"""Types for values the API takes from callers, with the database's ranges.

An id or count the database cannot hold (>= 2**63) is a 422 naming the parameter, not a 500 from
the driver ("Python int too large to convert to SQLite INTEGER", PostgreSQL's "out of range").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

DB_INT_MAX = 2**63 - 1

# A whole number compared with a 64-bit column (ids, versions). Within the column's range an id
# that does not exist is still a 404, as before; only what no row could hold is refused.
DbInt = Annotated[int, Field(ge=-DB_INT_MAX - 1, le=DB_INT_MAX)]
DbId = DbInt

# Free text a person types (a symptom, notes, an answer): long enough for any real description,
# short enough that no request holds a worker in segmentation or bloats a list answer.
TEXT_MAX = 4000
Text = Annotated[str, Field(max_length=TEXT_MAX)]

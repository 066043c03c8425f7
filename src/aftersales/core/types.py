"""Types for values the API takes from callers, with the database's ranges.

An id or count the database cannot hold (>= 2**63) is a 422 naming the parameter, not a 500 from
the driver ("Python int too large to convert to SQLite INTEGER", PostgreSQL's "out of range").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

DB_INT_MAX = 2**63 - 1

# A primary key or a foreign key from a caller.
DbId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
# A whole number stored in a 64-bit column (versions, counts).
DbInt = Annotated[int, Field(ge=-DB_INT_MAX, le=DB_INT_MAX)]

# Free text a person types (a symptom, notes, an answer): long enough for any real description,
# short enough that no request holds a worker in segmentation or bloats a list answer.
TEXT_MAX = 4000
Text = Annotated[str, Field(max_length=TEXT_MAX)]

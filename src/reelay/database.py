"""The one declarative base every table shares, so ``Base.metadata`` describes the whole database.

It sits outside ``jobs`` and ``security`` because both own tables: with the base in either package,
the other had to import it (a ``jobs`` ↔ ``security`` cycle). Nothing here knows any table.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


__all__ = ["Base"]

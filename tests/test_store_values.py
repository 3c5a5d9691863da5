"""The typed write records (store/values.py) name only real columns, and the states are the stored strings."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Table

from monitor.core import states
from monitor.store import values
from monitor.store.schema import feeds, stories, versions, watched_pages


@pytest.mark.parametrize(
    ("record", "table"),
    [
        (values.StoryValues, stories),
        (values.VersionValues, versions),
        (values.FeedValues, feeds),
        (values.PageValues, watched_pages),
    ],
)
def test_write_records_name_only_columns_of_their_table(record: Any, table: Table) -> None:
    keys = set(record.__annotations__)
    assert keys <= set(table.c.keys()), sorted(keys - set(table.c.keys()))
    assert not keys & {c.name for c in table.primary_key}  # an UPDATE never moves a row's key


def test_states_are_the_strings_stored_before() -> None:
    """StrEnum members are str: rows written with them hold the same text as before, and rows read back as
    plain strings compare equal to them."""
    assert states.StoryStatus.CLOSED == "closed" and f"{states.StoryStatus.QUIET}" == "quiet"
    assert [s.value for s in states.DeliveryStatus] == ["pending", "held", "delivered", "dead"]
    assert states.EventType("story.page_gone") is states.EventType.STORY_PAGE_GONE

"""service/coalesce.py: concurrent writes share one thread hop and one transaction, each caller gets its own
answer, and a failed batch fails only its own callers."""

from __future__ import annotations

import asyncio

import pytest

from monitor.service.coalesce import Coalescer


def test_concurrent_calls_share_a_batch_and_get_their_own_results() -> None:
    batches: list[list[int]] = []

    def write(items: list[int]) -> list[int]:
        batches.append(list(items))
        return [i * 10 for i in items]

    async def run() -> list[int]:
        c: Coalescer[int, int] = Coalescer(write)
        return list(await asyncio.gather(*(c.submit(i) for i in range(5))))

    assert asyncio.run(run()) == [0, 10, 20, 30, 40]
    assert batches == [[0, 1, 2, 3, 4]]


def test_batches_are_capped_and_later_calls_go_in_the_next_batch() -> None:
    batches: list[list[int]] = []

    def write(items: list[int]) -> list[int]:
        batches.append(list(items))
        return items

    async def run() -> None:
        c: Coalescer[int, int] = Coalescer(write, max_batch=2)
        assert await asyncio.gather(*(c.submit(i) for i in range(5))) == [0, 1, 2, 3, 4]
        assert await c.submit(9) == 9

    asyncio.run(run())
    assert batches == [[0, 1], [2, 3], [4], [9]]


def test_a_failed_write_fails_its_callers_and_the_next_batch_still_runs() -> None:
    def write(items: list[int]) -> list[int]:
        if 13 in items:
            raise RuntimeError("disk I/O error")
        return items

    async def run() -> None:
        c: Coalescer[int, int] = Coalescer(write)
        results = await asyncio.gather(c.submit(12), c.submit(13), return_exceptions=True)
        assert all(isinstance(r, RuntimeError) and "disk I/O" in str(r) for r in results)
        assert await c.submit(14) == 14

    asyncio.run(run())


def test_nothing_is_reported_before_the_write_returns() -> None:
    """A poll counts as recorded only once its transaction committed (crash safety)."""
    written: list[int] = []

    def write(items: list[int]) -> list[None]:
        written.extend(items)
        return [None] * len(items)

    async def run() -> None:
        c: Coalescer[int, None] = Coalescer(write)
        await c.submit(1)
        assert written == [1]

    asyncio.run(run())


@pytest.mark.parametrize("n", [1, 40])
def test_results_keep_submission_order(n: int) -> None:
    async def run() -> list[str]:
        c: Coalescer[int, str] = Coalescer(lambda items: [f"r{i}" for i in items], max_batch=7)
        return list(await asyncio.gather(*(c.submit(i) for i in range(n))))

    assert asyncio.run(run()) == [f"r{i}" for i in range(n)]


def test_a_new_event_loop_starts_clean_after_one_ended_mid_batch() -> None:
    """asyncio.run ends with the batch's thread still writing: the next loop's callers are still answered."""
    import threading

    gate = threading.Event()

    def write(items: list[int]) -> list[int]:
        gate.wait(0.3)  # asyncio.run waits for this thread at its end
        return items

    c: Coalescer[int, int] = Coalescer(write)

    async def abandon() -> None:
        task = asyncio.ensure_future(c.submit(1))
        await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(abandon())
    gate.set()

    async def again() -> int:
        return await c.submit(2)

    assert asyncio.run(again()) == 2

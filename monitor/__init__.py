"""news-monitor: a daemon that follows developing news stories.

Architecture (imports point one way): ``cli -> service -> (sources | store | alerts) -> core``.
``core`` is pure (stdlib only, no I/O, no clock); the edges turn the outside world into ``core.model``
values; ``service.pipeline`` is the only place that knows the order of steps.
"""

__version__ = "0.1.0"

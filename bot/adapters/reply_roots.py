"""Which question each of kbot's messages answers, so a reply to it continues that thread."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable


class ReplyRoots:
    """A bounded map from kbot's message to its thread's root; the oldest entries go first."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._roots: OrderedDict[Hashable, int] = OrderedDict()

    def get(self, message: Hashable) -> int | None:
        return self._roots.get(message)

    def __contains__(self, message: Hashable) -> bool:
        return message in self._roots

    def recorder(self, root: int, key: Callable[[int], Hashable] = lambda sent: sent) -> Callable[[int], None]:
        """A callback for a reply port: each message it sends belongs to `root`'s thread."""

        def remember(message_id: int) -> None:
            self._roots[key(message_id)] = root
            while len(self._roots) > self.limit:
                self._roots.popitem(last=False)

        return remember

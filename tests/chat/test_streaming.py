"""Pacing and splitting: updates no faster than the port allows, long answers split cleanly."""

from __future__ import annotations

import asyncio

from bot.adapters.formatting import writing
from bot.chat.streaming import Streamer, split_text
from bot.core.messages import Answer, PortLimits
from bot.core.pacing import UNPACED


class RecordingPort:
    """A reply port that keeps what it was sent, with the (fake) time of each call."""

    pacing = UNPACED

    def __init__(self, limits: PortLimits, clock) -> None:
        self.limits = limits
        self.clock = clock
        self.updates: list[tuple[float, int, str]] = []
        self.final: list[str] = []

    async def start(self) -> None:
        pass

    async def update(self, index: int, text: str) -> None:
        assert len(writing(text)) <= self.limits.max_length  # room is left for the port's "still writing" mark
        self.updates.append((self.clock(), index, text))

    async def finish(self, answer: Answer) -> None:
        self.final = split_text(answer.text, self.limits.max_length)  # a port splits its final itself

    async def fail(self, message: str) -> None:
        self.final = [message]


class FakeClock:
    """A `bot.core.clock.Clock` whose time moves only when the test (or a sleep) moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    def real_seconds(self, seconds: float) -> float:
        return 0.0


def test_updates_are_paced_to_the_port_interval() -> None:
    clock = FakeClock()
    port = RecordingPort(PortLimits(max_length=4000, min_edit_interval_s=1.0), clock)
    streamer = Streamer(port, clock=clock)

    async def run() -> None:
        for i in range(100):  # 100 tokens at 20 tokens/s: 5 s of streaming
            await streamer.push(f"w{i} ")
            clock.now += 0.05

    asyncio.run(run())
    times = [t for t, _, _ in port.updates]
    assert 5 <= len(times) <= 6
    assert all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False))
    last = port.updates[-1][2]
    assert last.startswith("w0 w1 w2") and "…" not in last  # plain: marks
    # are the port's to render (bot/adapters/formatting.writing)


def test_long_answers_continue_in_new_messages() -> None:
    clock = FakeClock()
    port = RecordingPort(PortLimits(max_length=60, min_edit_interval_s=0.0), clock)
    streamer = Streamer(port, clock=clock)
    text = "Alpha beta gamma delta [1] see https://example.com/a/very/long/path/x and more words here " * 3

    async def run() -> None:
        for word in text.split(" "):
            await streamer.push(word + " ")

    asyncio.run(run())
    # While it is written the link is not clickable (hxxps://example[.]com/...): a little longer, one part more.
    assert {index for _, index, _ in port.updates} == {0, 1, 2, 3, 4, 5, 6}
    assert all("https://" not in text and len(text) <= 60 for _, _, text in port.updates)
    asyncio.run(streamer.finish(Answer(text=text)))
    parts = port.final
    assert all(len(p) <= 60 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_split_never_cuts_words_links_or_citations() -> None:
    text = ("Claims go to Ledgerly [2] within 30 days, see https://handbook.example/expenses#claiming for "
            "details [1, 3] and [the guide](https://handbook.example/guide) too. ") * 4
    units = ["https://handbook.example/expenses#claiming", "[1, 3]", "[the guide](https://handbook.example/guide)"]
    for limit in range(50, 140, 7):  # the longest unbreakable unit is 43 characters
        parts = split_text(text, limit)
        assert all(len(p) <= limit for p in parts)
        assert " ".join(parts).split() == text.split()
        for unit in units:
            assert sum(p.count(unit) for p in parts) == text.count(unit)


def test_paragraph_boundaries_are_preferred() -> None:
    text = "First paragraph is here.\n\nSecond paragraph follows and is longer than the first."
    assert split_text(text, 40) == [
        "First paragraph is here.",
        "Second paragraph follows and is longer",
        "than the first.",
    ]


def test_edit_budget_keeps_half_for_finals_and_counts_from_completion() -> None:
    from bot.core.pacing import EditBudget

    clock = FakeClock()
    budget = EditBudget(4, 10.0, clock=clock)
    assert budget.try_take(keep=2) and budget.try_take(keep=2)
    assert not budget.try_take(keep=2)  # intermediate edits leave two calls of the window
    assert budget.try_take() and budget.try_take()  # which finals may use
    assert not budget.try_take()
    clock.now = 3.0
    budget.settle()  # the last write finished at t=3: its call counts from then
    clock.now = 10.0
    assert budget.try_take() and budget.try_take() and budget.try_take()  # three expired at t=10
    assert not budget.try_take()  # the settled one lasts until t=13
    clock.now = 13.0
    assert budget.try_take()


class PacedPort(RecordingPort):
    def __init__(self, limits: PortLimits, clock, pacing) -> None:
        super().__init__(limits, clock)
        self.pacing = pacing


def test_a_final_finds_a_free_call_after_a_long_stream_on_discord() -> None:
    """Ten seconds of tokens in one Discord channel: intermediate edits leave room in the channel's
    bucket, so the final answer's write goes out the moment the model is done (never waits a window)."""
    from bot.adapters.discord.port import CHANNEL_BUCKET, DiscordPort
    from bot.core.pacing import EditBudget, Pacing

    clock = FakeClock()
    budget = EditBudget(*CHANNEL_BUCKET, clock=clock)
    port = PacedPort(DiscordPort.limits, clock, Pacing(edits=budget, posts=budget))
    streamer = Streamer(port, clock=clock)

    async def run() -> None:
        for i in range(500):  # 50 tokens/s for 10 s
            await streamer.push(f"w{i} ")
            clock.now += 0.02

    asyncio.run(run())
    assert len(port.updates) >= 5  # the answer was visibly written as it came
    assert budget.try_take()  # the final's call is free now
    assert budget.try_take()  # and so is a second part's

"""A job's progress, shown the same way on every platform: the message its command posted is edited
within the place's write budget; a step is skipped when the budget is spent (the next one carries
newer numbers), and the end always gets through."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.core.jobs import JobView, ProgressTarget
from bot.core.pacing import EditBudgets

log = logging.getLogger("kbot.progress")

Edit = Callable[[ProgressTarget, str], Awaitable[None]]


class ProgressDisplay:
    """`edit` changes the message at a target to a text; `budget_key` says which budget it draws on
    (a Slack workspace, a Discord channel, a Telegram chat); `keep_half` leaves half of each window
    to answers (Slack's chat.update tier is shared by the whole workspace)."""

    def __init__(self, budgets: EditBudgets, edit: Edit, budget_key: Callable[[ProgressTarget], str],
                 *, errors: tuple[type[BaseException], ...], keep_half: bool = False) -> None:
        self.budgets = budgets
        self.edit = edit
        self.budget_key = budget_key
        self.errors = errors
        self.keep_half = keep_half

    async def show(self, view: JobView) -> None:
        target = view.target
        if target is None:
            return
        budget = self.budgets[self.budget_key(target)]

        async def edit() -> None:
            try:
                await self.edit(target, view.describe())
            except self.errors as exc:  # progress is best effort; the next step or the end tries again
                log.warning("%s: could not show job %s progress: %s", target.platform, view.id, exc)

        await budget.write(edit, must=view.ended, keep=budget.calls // 2 if self.keep_half else 0)

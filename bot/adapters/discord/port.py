"""One answer in one Discord channel or thread (a reply to the question), or to an `/ask` interaction;
edits about once a second per channel; the final message in Discord Markdown with 👍/👎."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

import discord

from bot.adapters.formatting import answer_markdown, defuse_mentions, to_discord_markdown, writing
from bot.chat.streaming import put, split_text
from bot.core.messages import Answer, PortLimits
from bot.core.pacing import EditBudget, Pacing
from bot.state.explanations import WHY_LABEL

log = logging.getLogger("kbot.discord")

MAX_LENGTH = 2000
NO_MENTIONS = discord.AllowedMentions.none()
THINKING = "kbot is thinking…"
FEEDBACK_PREFIX = "kbot:fb:"
WHY_PREFIX = "kbot:why:"
SHARE_PREFIX = "kbot:share:"
SHARE_LABEL = "Share with the channel"
PRIVATE_THINKING = "kbot is thinking… (only you can see this answer)"
NO_DM = "I couldn't send you a direct message (are DMs from server members off?), so here is the answer for everyone."

# Discord's rate-limit bucket for messages and edits in one channel: 5 calls per 5 s.
CHANNEL_BUCKET = (5, 5.0)


class FeedbackButtons(discord.ui.View):
    """👍/👎 (and "Why these sources?" when it cites any) under a final answer; clicks are handled in
    `on_interaction`, so the view need not outlive sending."""

    def __init__(self, reply_id: str, explain: bool = False, share_to: str | None = None) -> None:
        super().__init__(timeout=1)
        for vote, emoji in (("up", "👍"), ("down", "👎")):
            self.add_item(discord.ui.Button(label=emoji, custom_id=f"{FEEDBACK_PREFIX}{vote}:{reply_id}",
                                            style=discord.ButtonStyle.secondary))
        if explain:
            self.add_item(discord.ui.Button(label=WHY_LABEL, custom_id=f"{WHY_PREFIX}{reply_id}",
                                            style=discord.ButtonStyle.secondary))
        if share_to is not None:  # a private answer: "channel:question" it can be posted to
            self.add_item(discord.ui.Button(label=SHARE_LABEL, custom_id=f"{SHARE_PREFIX}{reply_id}:{share_to}",
                                            style=discord.ButtonStyle.primary))


class DiscordPort:
    """Messages go out with embeds suppressed and mentions parsed from nothing; Discord keeps the
    suppression on every later edit."""

    limits = PortLimits(max_length=MAX_LENGTH, min_edit_interval_s=1.0)

    def __init__(self, channel: discord.abc.Messageable, question: discord.Message | None, budget: EditBudget,
                 on_sent: Callable[[int], None]) -> None:
        self.channel = channel
        self.question = question
        self.budget = budget
        self.pacing = Pacing(edits=budget, posts=budget)  # Discord paces messages and edits per channel alike
        self.on_sent = on_sent
        self.messages: list[discord.Message] = []
        self.texts: list[str] = []  # what each message says, as the streamer gave it (no marks)
        self.share_to: str | None = None  # set for a private answer: where "Share with the channel" posts it

    async def start(self) -> None:
        with contextlib.suppress(discord.HTTPException):
            await self.channel.typing()

    async def _send(self, content: str, view: discord.ui.View | None = None) -> None:
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        if self.question is not None and not self.messages:
            kwargs["reference"] = self.question.to_reference(fail_if_not_exists=False)
        message = await self.channel.send(content, mention_author=False,
                                          allowed_mentions=NO_MENTIONS, suppress_embeds=True, **kwargs)
        self.messages.append(message)
        self.on_sent(message.id)

    async def _edit(self, index: int, content: str, view: discord.ui.View | None = None) -> None:
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        self.messages[index] = await self.messages[index].edit(content=content, allowed_mentions=NO_MENTIONS,
                                                               suppress=True, **kwargs)

    async def _write(self, index: int, content: str, view: discord.ui.View | None = None) -> None:
        if index < len(self.messages):
            await self._edit(index, content, view)
        else:
            await self._send(content, view)

    async def update(self, index: int, text: str) -> None:
        try:
            await self._write(index, writing(defuse_mentions(text)))
        except discord.HTTPException as exc:
            log.warning("discord: intermediate update failed: %s", exc)
            return
        put(self.texts, index, text)

    async def finish(self, answer: Answer) -> None:
        parts = split_text(answer_markdown(answer), MAX_LENGTH)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            share = self.share_to if answer.grounded else None
            view = FeedbackButtons(answer.reply_id, bool(answer.sources), share) if last and answer.reply_id else None
            await self.budget.write(functools.partial(self._write, index, to_discord_markdown(part), view))

    async def fail(self, message: str) -> None:
        notice = f"⚠️ {message}"
        if self.texts:
            last = len(self.texts) - 1
            await self.budget.write(lambda: self._write(last, defuse_mentions(f"{self.texts[-1]}\n\n{notice}")))
        else:
            await self.budget.write(lambda: self._write(0, defuse_mentions(notice)))


class DirectMessagePort(DiscordPort):
    """private_first for a message in a channel: the answer goes to the asker's DM with kbot, with
    "Share with the channel"; if Discord refuses the DM, it is answered in the channel after all."""

    def __init__(self, user: discord.User | discord.Member, question: discord.Message, channel_budget: EditBudget,
                 dm_budget: Callable[[str], EditBudget], on_sent: Callable[[int], None]) -> None:
        super().__init__(question.channel, question, channel_budget, on_sent)
        self.user = user
        self.dm_budget = dm_budget
        self.share_to = f"{question.channel.id}:{question.id}"

    async def start(self) -> None:
        try:
            dm = await self.user.create_dm()
            first = await dm.send(PRIVATE_THINKING, allowed_mentions=NO_MENTIONS, suppress_embeds=True)
        except discord.HTTPException:
            self.share_to = None  # public after all, saying why
            await self.budget.write(lambda: self._send(NO_DM))
            self.messages.clear()  # the answer follows as messages of its own, the note stays
            return
        self.channel, self.question, self.on_sent = dm, None, lambda _id: None
        self.budget = self.dm_budget(str(dm.id))
        self.pacing = Pacing(edits=self.budget, posts=self.budget)
        self.messages.append(first)


class InteractionPort(DiscordPort):
    """An answer to `/ask`: the first response (sent with embeds suppressed) is edited; longer
    answers continue as follow-ups. `private`: shown to the asker alone, with "Share with the channel"."""

    def __init__(self, interaction: discord.Interaction, budget: EditBudget, private: bool = False) -> None:
        super().__init__(interaction.channel, None, budget, lambda _id: None)  # type: ignore[arg-type]  # an /ask interaction always has its channel
        self.interaction = interaction
        self.private = private
        if private and interaction.channel is not None:
            self.share_to = f"{interaction.channel.id}:0"

    async def start(self) -> None:
        if not self.interaction.response.is_done():
            await self.interaction.response.send_message(PRIVATE_THINKING if self.private else THINKING,
                                                         suppress_embeds=True, allowed_mentions=NO_MENTIONS,
                                                         ephemeral=self.private)

    async def _send(self, content: str, view: discord.ui.View | None = None) -> None:
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        message: discord.InteractionMessage | discord.WebhookMessage
        if not self.messages:
            message = await self.interaction.edit_original_response(content=content, allowed_mentions=NO_MENTIONS,
                                                                    **kwargs)
        else:
            message = await self.interaction.followup.send(content, allowed_mentions=NO_MENTIONS, wait=True,
                                                           suppress_embeds=True, ephemeral=self.private, **kwargs)
        self.messages.append(message)

    async def _edit(self, index: int, content: str, view: discord.ui.View | None = None) -> None:
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        if index == 0:
            await self.interaction.edit_original_response(content=content, allowed_mentions=NO_MENTIONS, **kwargs)
        else:
            await self.interaction.followup.edit_message(self.messages[index].id, content=content,
                                                         allowed_mentions=NO_MENTIONS, **kwargs)

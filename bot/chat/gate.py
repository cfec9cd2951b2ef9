"""What a message must pass before kbot spends anything on it: the place is allowed, the question
is not too long, the asker and the channel are within their rates. Then the scopes this channel's
admins switched off are dropped. All of it is read from the database, so every process agrees.
"""

from __future__ import annotations

from bot.config import LimitsSettings
from bot.core.limits import too_long
from bot.core.messages import Incoming
from bot.core.requests import Admission
from bot.state.access import AccessControl, pairing_reply
from bot.state.place_choices import ChannelScopes
from bot.state.rates import Limit, RateLimiter

NOT_ENABLED = "kbot isn't enabled here."
NOTICES_PER_WINDOW = 1  # a flood hears "slow down" once per window, not once per message


class Gate:
    def __init__(self, access: AccessControl, rates: RateLimiter, limits: LimitsSettings,
                 channel_scopes: ChannelScopes) -> None:
        self.access = access
        self.rates = rates
        self.limits = limits
        self.channel_scopes = channel_scopes

    def allowed_place(self, incoming: Incoming, always_reply: bool = False) -> Admission | None:
        """None when the place may use kbot; otherwise the refusal. Questions hear the pairing code
        once a day (a busy unapproved group is not answered every time); a command always hears it."""
        key = incoming.key
        verdict = self.access.check(key.platform, key.workspace, incoming.place_name or key.workspace,
                                    incoming.author)
        if verdict.allowed:
            return None
        reply = verdict.reply
        if reply is None and always_reply:
            reply = pairing_reply(verdict.code) if verdict.code else NOT_ENABLED
        return Admission(None, "not_approved", reply)

    def _rates(self, incoming: Incoming) -> list[Limit]:
        key, limits = incoming.key, self.limits
        person = f"q:{key.platform}:{key.workspace}:{incoming.author}"
        channel = f"q:{key.platform}:{key.workspace}:{key.channel}"
        wanted = [
            Limit("rate_person", f"{person}:m", limits.questions_per_person_per_minute, 60),
            Limit("rate_person", f"{person}:h", limits.questions_per_person_per_hour, 3600),
            Limit("rate_channel", f"{channel}:m", limits.questions_per_channel_per_minute, 60),
        ]
        return [limit for limit in wanted if limit.count > 0]

    def admit_question(self, incoming: Incoming) -> Admission:
        """Blocking (database): run it in a worker thread."""
        refused = self.allowed_place(incoming)
        if refused is not None:
            return refused
        long = too_long(incoming.text, self.limits.max_question_chars)
        if long is not None:
            return Admission(None, "too_long", long)
        hit = self.rates.admit(self._rates(incoming))
        if hit is not None:
            first = self.rates.admit([Limit("notice", f"notice:{hit.key}", NOTICES_PER_WINDOW, hit.window_s)]) is None
            return Admission(None, hit.name, _rate_reply(hit) if first else None)
        return Admission(self.narrow(incoming))

    def admit_command(self, incoming: Incoming) -> Admission:
        refused = self.allowed_place(incoming, always_reply=True)
        return refused if refused is not None else Admission(self.narrow(incoming))

    def narrow(self, incoming: Incoming) -> Incoming:
        return self.channel_scopes.narrow(incoming)


def _rate_reply(limit: Limit) -> str:
    per = "a minute" if limit.window_s == 60 else "an hour"
    who = "you" if limit.name == "rate_person" else "this channel"
    return (f"kbot takes at most {limit.count} questions {per} from {who}; please wait a little and ask again. "
            "Questions sent meanwhile are not answered.")

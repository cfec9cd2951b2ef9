"""What Telegram said no to: `kbot doctor`'s checks (getMe: the token and the API within reach; the
webhook state), and a token revoked while kbot runs, said in one line."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.adapters.telegram.settings import TelegramSettings
from bot.core.checks import Finding

REFUSED_TOKEN = Finding(False, "telegram: Telegram refused the bot token",
                        "check it with @BotFather and set telegram.token")


def reason(exc: TelegramError, token: str) -> str:
    """A network error's reason in a few words, the token cut out (a URL in it would carry it)."""
    return " ".join(str(exc).replace(token, "[token]").split())[:120] or exc.__class__.__name__


def unreachable(settings: TelegramSettings, exc: TelegramError, token: str) -> Finding:
    where = settings.base_url or "https://api.telegram.org"
    return Finding(False, f"telegram: cannot reach the Bot API at {where} ({reason(exc, token)})",
                   "check the network, or telegram.base_url")


async def diagnose(bot: Bot, settings: TelegramSettings, token: str) -> list[Finding]:
    try:
        me = await bot.get_me()
    except InvalidToken:
        return [REFUSED_TOKEN]
    except TelegramError as exc:
        return [unreachable(settings, exc, token)]
    findings = [Finding(True, f"telegram: connected as @{me.username} ({settings.mode} mode)")]
    try:
        hook = await bot.get_webhook_info()
    except TelegramError:
        return findings
    if settings.mode == "webhook":
        wanted = settings.webhook_url or ""
        if hook.url == wanted:
            findings.append(Finding(True, f"telegram: the webhook is set to {wanted}"))
        else:
            findings.append(Finding(True, f"telegram: the webhook is {hook.url or 'not set'}; `kbot run` sets it "
                                          f"to {wanted}"))
        if hook.last_error_message:
            findings.append(Finding(False, f"telegram: Telegram's last webhook delivery failed: "
                                           f"{hook.last_error_message}",
                                    "check that telegram.webhook_url reaches telegram.webhook_port"))
    elif hook.url:
        findings.append(Finding(True, f"telegram: a webhook is set ({hook.url}); polling removes it at start"))
    return findings


class RevokedTokenFilter(logging.Filter):
    """python-telegram-bot logs a revoked token with a full traceback as its polling loop gives up
    ("Invalid token. Aborting retry loop."); that record becomes kbot's one line instead."""

    def __init__(self, on_revoked: Callable[[], None]) -> None:
        super().__init__()
        self.on_revoked = on_revoked

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, InvalidToken):
            self.on_revoked()
            return False
        return True

    @classmethod
    def install(cls, on_revoked: Callable[[], None]) -> None:
        logger = logging.getLogger("telegram.ext")  # PTB's networkloop logs under its package's name
        for old in [f for f in logger.filters if isinstance(f, cls)]:
            logger.removeFilter(old)  # the newest adapter in this process is the one that polls
        logger.addFilter(cls(on_revoked))

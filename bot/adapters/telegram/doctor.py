"""`kbot doctor` for Telegram: getMe (the token, and the API within reach) and the webhook state."""

from __future__ import annotations

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.adapters.telegram.settings import TelegramSettings
from bot.core.checks import Finding


async def diagnose(bot: Bot, settings: TelegramSettings, token: str) -> list[Finding]:
    try:
        me = await bot.get_me()
    except InvalidToken:
        return [Finding(False, "telegram: Telegram refused the bot token",
                        "check it with @BotFather and set telegram.token")]
    except TelegramError as exc:
        where = settings.base_url or "https://api.telegram.org"
        reason = " ".join(str(exc).replace(token, "[token]").split())[:120]
        return [Finding(False, f"telegram: cannot reach the Bot API at {where} ({reason})",
                        "check the network, or telegram.base_url")]
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

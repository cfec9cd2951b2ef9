"""`kbot doctor` for Discord: the token (a REST login), and the Message Content intent the
application has, from its flags (the gateway closes on a bot that asks for an intent it lacks)."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord

from bot.adapters.discord.settings import ADMINISTRATOR, PERMISSIONS
from bot.core.checks import Finding

# Application flags: GATEWAY_MESSAGE_CONTENT (verified bots) and _LIMITED (under 100 servers).
MESSAGE_CONTENT = (1 << 18) | (1 << 19)


REFUSED_TOKEN = Finding(False, "discord: Discord refused the bot token",
                        "reset it under Bot in the developer portal and set discord.token")
INTENT_OFF = Finding(False, "discord: the Message Content intent is off",
                     "turn it on under Bot → Privileged Gateway Intents (kbot reads the questions)")


def unreachable(base_url: str | None, exc: Exception) -> Finding:
    return Finding(False, f"discord: cannot reach the API at {base_url or 'https://discord.com/api'} "
                          f"({exc.__class__.__name__})", "check the network, or discord.base_url")


async def diagnose(client: discord.Client, token: str, base_url: str | None) -> list[Finding]:
    try:
        try:
            await client.login(token)
        except discord.LoginFailure:
            return [REFUSED_TOKEN]
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            return [unreachable(base_url, exc)]
        findings = [Finding(True, f"discord: logged in as {client.user}")]
        application = await client.application_info()
        intent = bool(application.flags.value & MESSAGE_CONTENT)
        findings.append(Finding(True, "discord: the Message Content intent is on") if intent else INTENT_OFF)
        findings += _permissions(await client.http.get_guilds(200))
        return findings
    finally:
        await client.close()  # the HTTP session login opened, whether or not the token was taken


def _permissions(guilds: list[Any]) -> list[Finding]:
    """kbot's own permissions in each server it is in (the partial guilds list carries them)."""
    if not guilds:
        return [Finding(True, "discord: in no server yet: invite it with the URL kbot init prints")]
    found = []
    for guild in guilds:
        granted = int(guild.get("permissions") or 0)
        missing = [name for name, bit in PERMISSIONS.items() if not granted & bit and not granted & ADMINISTRATOR]
        shown = f"discord: server {guild.get('name')!r}: " + (
            "every permission kbot needs" if not missing else "missing " + ", ".join(missing))
        found.append(Finding(not missing, shown, "grant them to kbot's role, or invite it again with kbot init's URL"))
    return found

"""`kbot doctor` for Discord: the token (a REST login), and the Message Content intent the
application has, from its flags (the gateway closes on a bot that asks for an intent it lacks)."""

from __future__ import annotations

import aiohttp
import discord

from bot.core.checks import Finding

# Application flags: GATEWAY_MESSAGE_CONTENT (verified bots) and _LIMITED (under 100 servers).
MESSAGE_CONTENT = (1 << 18) | (1 << 19)


async def diagnose(client: discord.Client, token: str, base_url: str | None) -> list[Finding]:
    try:
        try:
            await client.login(token)
        except discord.LoginFailure:
            return [Finding(False, "discord: Discord refused the bot token",
                            "reset it under Bot in the developer portal and set discord.token")]
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            return [Finding(False, f"discord: cannot reach the API at {base_url or 'https://discord.com/api'} "
                                   f"({exc.__class__.__name__})", "check the network, or discord.base_url")]
        findings = [Finding(True, f"discord: logged in as {client.user}")]
        application = await client.application_info()
        intent = bool(application.flags.value & MESSAGE_CONTENT)
        findings.append(Finding(intent, "discord: the Message Content intent is " + ("on" if intent else "off"),
                                "turn it on under Bot → Privileged Gateway Intents (kbot reads the questions)"))
        return findings
    finally:
        await client.close()  # the HTTP session login opened, whether or not the token was taken

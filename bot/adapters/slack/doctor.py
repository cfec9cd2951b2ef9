"""What Slack said no to, in one line: at start-up (a CannotStart) and in `kbot doctor` (findings:
auth.test, the scopes granted against the ones kbot needs, and Socket Mode's app token)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.settings import SlackSettings
from bot.core.checks import Finding
from bot.core.start_errors import CannotStart, refused

# Web API errors that mean the token itself is wrong (revoked, mistyped, or for another app).
TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                          "not_allowed_token_type"})
# The bot scopes manifest.yaml asks for (tests/adapters/slack/test_doctor.py keeps the two alike).
SCOPES = ("app_mentions:read", "channels:history", "groups:history", "im:history", "mpim:history",
          "channels:read", "groups:read", "im:read", "mpim:read", "chat:write", "commands", "files:read",
          "files:write", "users:read", "assistant:write", "reactions:read")


def refusal(exc: Exception, token_setting: str, base_url: str | None) -> Finding | None:
    """What Slack refused, and the fix, for a refusal or an unreachable API; None for anything else."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or "refused")
        if error in TOKEN_ERRORS:
            return Finding(False, f"slack: Slack refused the token in {token_setting} ({error})",
                           "copy it again from the app's settings page")
        if error == "missing_scope":
            needed = exc.response.get("needed") or "see manifest.yaml"
            return Finding(False, f"slack: the app lacks a scope ({needed})", "reinstall it from manifest.yaml")
        return Finding(False, f"slack: Slack said {error}", f"check {token_setting}")
    if isinstance(exc, aiohttp.ClientConnectionError | TimeoutError):
        where = base_url or "https://slack.com/api/"
        return Finding(False, f"slack: cannot reach the Web API at {where} ({exc.__class__.__name__})",
                       "check the network, or slack.base_url")
    return None


def cannot_start(exc: Exception, token_setting: str, base_url: str | None) -> CannotStart | None:
    found = refusal(exc, token_setting, base_url)
    if found is None:
        return None
    return refused(found, token_setting if isinstance(exc, SlackApiError) else "slack.base_url")


async def diagnose(client: AsyncWebClient, settings: SlackSettings, app_token: str | None) -> list[Finding]:
    try:
        identity = await client.auth_test()
    except Exception as exc:
        refused = refusal(exc, "slack.bot_token", settings.base_url)
        if refused is None:
            raise
        return [refused]
    findings = [Finding(True, f"slack: connected as {identity.get('user')} in {identity.get('team')} "
                              f"({settings.mode} mode)")]
    headers = {key.lower(): value for key, value in (identity.headers or {}).items()}
    if headers.get("x-oauth-scopes"):
        granted = {scope.strip() for scope in str(headers["x-oauth-scopes"]).split(",")}
        missing = [scope for scope in SCOPES if scope not in granted]
        shown = "every scope kbot needs is granted" if not missing else "missing scopes: " + ", ".join(missing)
        findings.append(Finding(not missing, f"slack: {shown}", "add them from manifest.yaml and reinstall the app"))
    if settings.mode == "socket" and app_token:
        try:
            await client.apps_connections_open(app_token=app_token)
            findings.append(Finding(True, "slack: the app-level token opens Socket Mode"))
        except Exception as exc:
            refused = refusal(exc, "slack.app_token", settings.base_url)
            if refused is None:
                raise
            findings.append(refused)
    return findings


class RevokedTokenFilter(logging.Filter):
    """slack_sdk's Socket Mode client logs its failed reconnect on every check (every ping interval);
    when Slack refuses the token that becomes one kbot line, and the repeats are dropped."""

    def __init__(self, on_revoked: Callable[[str], None]) -> None:
        super().__init__()
        self.on_revoked = on_revoked

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        error = next((code for code in TOKEN_ERRORS if code in message), None)
        if error is not None and record.levelno >= logging.WARNING:
            self.on_revoked(error)
            return False
        return True

    @classmethod
    def install(cls, logger: logging.Logger, on_revoked: Callable[[str], None]) -> None:
        for old in [f for f in logger.filters if isinstance(f, cls)]:
            logger.removeFilter(old)  # the newest adapter in this process is the one connected
        logger.addFilter(cls(on_revoked))

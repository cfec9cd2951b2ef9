"""Final-message formatting: each platform's markup, escaping, and mass mentions that ping nobody."""

from __future__ import annotations

from bot.adapters.formatting import defuse_mentions, to_discord_markdown, to_slack_mrkdwn, to_telegram_html

ANSWER = ("# Title\n**Leave** is 25 days [1]. See [the policy](https://x.y/a_b) and https://e.com/x. "
          "@everyone <b> & `a<b`\n\nSources:\n[1] handbook.md, p. 2")


def test_slack_mrkdwn() -> None:
    assert to_slack_mrkdwn(ANSWER) == (
        "*Title*\n*Leave* is 25 days [1]. See <https://x.y/a_b|the policy> and https://e.com/x. "
        "@\u200beveryone &lt;b&gt; &amp; `a&lt;b`\n\nSources:\n[1] handbook.md, p. 2")
    assert to_slack_mrkdwn("<!here> hi") == "&lt;!here&gt; hi"


def test_telegram_html_is_balanced_and_escaped() -> None:
    assert to_telegram_html(ANSWER) == (
        '<b>Title</b>\n<b>Leave</b> is 25 days [1]. See <a href="https://x.y/a_b">the policy</a> and '
        "https://e.com/x. @\u200beveryone &lt;b&gt; &amp; <code>a&lt;b</code>\n\nSources:\n[1] handbook.md, p. 2")
    assert to_telegram_html("```\nx < y\n```") == "<pre>x &lt; y\n</pre>"
    assert to_telegram_html("**unclosed bold") == "**unclosed bold"


def test_discord_keeps_markdown_and_defuses_mentions() -> None:
    assert to_discord_markdown("**x** @here") == "**x** @\u200bhere"
    assert defuse_mentions("@Channel and @everyone") == "@\u200bChannel and @\u200beveryone"

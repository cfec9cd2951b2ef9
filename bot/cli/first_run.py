"""`kbot init`: the first run. Asks which platforms and which LLM (none is fine), writes
`config.yaml` with `${VAR}` placeholders and a `.env` template for the secrets, prints what each
platform needs (the Slack manifest, the Discord invite URL, the BotFather steps), then runs
`kbot doctor`. `kbot init --platform telegram --yes` does the same without questions."""

# Imports inside functions: the doctor's checks load the parts they check, after the files are written.

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from bot.adapters.discord.settings import PERMISSIONS
from bot.cli.errors import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, CliError
from bot.config import Settings

PLATFORM_NAMES = ("slack", "discord", "telegram")
LLMS = ("none", "openai", "ollama")
DISCORD_PERMISSIONS = sum(PERMISSIONS.values())  # the invite URL's permissions

SECTIONS = {
    "slack": ("slack:\n  enabled: true\n  bot_token: ${SLACK_BOT_TOKEN}      # xoxb-…, Install App\n"
              "  app_token: ${SLACK_APP_TOKEN}      # xapp-…, an app-level token with connections:write\n"),
    "discord": ("discord:\n  enabled: true\n  token: ${DISCORD_BOT_TOKEN}        # Bot → Reset Token; turn on the "
                "Message Content intent\n"),
    "telegram": ("telegram:\n  enabled: true\n  token: ${TELEGRAM_BOT_TOKEN}       # from @BotFather\n"
                 "  base_url: ${TELEGRAM_BASE_URL}        # a local Bot API server; unset: api.telegram.org\n"
                 "  base_file_url: ${TELEGRAM_BASE_FILE_URL}\n"),
}
VARIABLES = {"slack": ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"], "discord": ["DISCORD_BOT_TOKEN"],
             "telegram": ["TELEGRAM_BOT_TOKEN"], "openai": ["OPENAI_API_KEY"]}
LLM_SECTIONS = {
    "none": "llm:\n  kind: extractive            # answers quote the passages that answer; no model needed\n",
    "openai": "llm:\n  kind: openai\n  model: gpt-4o-mini\n  api_key: ${OPENAI_API_KEY}\n",
    "ollama": "llm:\n  kind: openai                # Ollama speaks the OpenAI API\n"
              "  base_url: http://localhost:11434/v1\n  model: llama3.1\n",
}


def add_parsers(commands: Any) -> None:
    init = commands.add_parser("init", help="write config.yaml and a .env template for your platforms and LLM, "
                                            "say what each platform needs, then run kbot doctor")
    init.add_argument("--platform", action="append", choices=PLATFORM_NAMES, default=None,
                      help="a platform to connect (repeatable); asked when not given")
    init.add_argument("--llm", choices=LLMS, default=None,
                      help="who writes answers: none (extractive, no model), openai, or ollama (default: asked; "
                           "none with --yes)")
    init.add_argument("--yes", action="store_true", help="ask nothing: take the flags and the defaults")
    init.add_argument("--force", action="store_true", help="overwrite an existing config.yaml")
    init.set_defaults(run=cmd_init)


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    folder = Path.cwd()
    config = Path(args.config) if args.config else folder / "config.yaml"
    if config.exists() and not args.force:
        raise CliError(f"{config} already exists: kbot doctor checks it; kbot init --force writes a new one")
    platforms = args.platform or ([] if args.yes else _ask_platforms())
    llm = args.llm or ("none" if args.yes else _ask_llm())
    config.write_text(render_config(platforms, llm), encoding="utf-8")
    print(f"wrote {config}")
    env_file = config.parent / ".env"
    if not env_file.exists():
        variables = [v for name in [*platforms, llm] for v in VARIABLES.get(name, [])]
        env_file.write_text("".join(f"{v}=\n" for v in variables) or "# no secrets needed\n", encoding="utf-8")
        os.chmod(env_file, 0o600)
        print(f"wrote {env_file} (fill it in, then `set -a; . ./.env; set +a` before kbot run)")
    for name in platforms:
        print()
        print(next_steps(name))
    print()
    return _doctor(config)


def render_config(platforms: list[str], llm: str) -> str:
    parts = ["# Written by kbot init. Secrets are read from the environment (${VAR}); see .env.\n",
             "data_dir: .kbot\n", "knowledge:\n  paths: [knowledge]       # what kbot ingest indexes\n",
             LLM_SECTIONS[llm], *(SECTIONS[name] for name in platforms)]
    return "\n".join(parts)


def next_steps(platform: str) -> str:
    if platform == "slack":
        steps = ("Slack: at https://api.slack.com/apps choose Create New App → From a manifest and paste the "
                 "manifest below (manifest.yaml in kbot's repository); under Basic Information generate an "
                 "app-level token with connections:write (SLACK_APP_TOKEN); Install App gives SLACK_BOT_TOKEN.")
        manifest = Path(__file__).resolve().parents[2] / "manifest.yaml"
        return f"{steps}\n\n{manifest.read_text(encoding='utf-8')}" if manifest.is_file() else steps
    if platform == "discord":
        client = _discord_application_id() or "<APPLICATION_ID>"
        return ("Discord: in https://discord.com/developers/applications → Bot, reset the token "
                "(DISCORD_BOT_TOKEN) and turn on the Message Content intent. Invite kbot with:\n"
                f"  https://discord.com/oauth2/authorize?client_id={client}&scope=bot%20applications.commands"
                f"&permissions={DISCORD_PERMISSIONS}")
    return ("Telegram: talk to @BotFather, send /newbot, and put the token it gives in TELEGRAM_BOT_TOKEN. "
            "In groups kbot answers mentions, replies and /ask.")


def _discord_application_id() -> str | None:
    """A bot token's first part is its application's id, base64-encoded (no call to Discord)."""
    import base64

    token = os.environ.get("DISCORD_BOT_TOKEN", "")
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if decoded.isdigit() else None


def _ask_platforms() -> list[str]:
    answer = _ask("Which platforms? (slack, discord, telegram; comma-separated; empty for none)", "")
    chosen = [word.strip().lower() for word in answer.replace(" ", ",").split(",") if word.strip()]
    unknown = [word for word in chosen if word not in PLATFORM_NAMES]
    if unknown:
        raise CliError(f"unknown platform {unknown[0]!r}: choose from slack, discord, telegram")
    return list(dict.fromkeys(chosen))


def _ask_llm() -> str:
    answer = _ask("Which LLM writes answers? (none, openai, ollama)", "none").strip().lower()
    if answer not in LLMS:
        raise CliError(f"unknown LLM {answer!r}: choose none, openai or ollama")
    return answer


def _ask(question: str, default: str) -> str:
    if not sys.stdin.isatty():
        raise CliError("kbot init asks questions: run it in a terminal, or pass --platform, --llm and --yes")
    return input(f"{question} [{default}]: ").strip() or default


def _doctor(config: Path) -> int:
    from bot.cli.doctor import run_checks
    from bot.config import ConfigError
    from bot.wiring import load_settings

    print("kbot doctor:")
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        print(f"✗ config: {exc}")
        return EXIT_CONFIG
    findings = run_checks(settings, str(config))
    return EXIT_OK if all(f.ok for f in findings) else EXIT_FAILED

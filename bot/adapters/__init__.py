"""Chat platforms, one package each (`slack/`, `discord/`, `telegram/`), the same files in each:

- `settings.py`: the platform's section of config.yaml (a `PlatformSettings`)
- `events.py`: platform events and payloads -> `Incoming` (thread keys, scopes, who is asking)
- `port.py`: the `ReplyPort`: streams an answer in, renders the final one from the `Answer`
- `commands.py`: the `/kb` glue: the platform's command surface -> `bot.chat.commands`, job progress
- `adapter.py`: the `Adapter`: connects, routes events with the SDK's own routing, stops, closes
- `__init__.py`: `Settings` and `create(...)`, which is all the registry (`registry.py`) asks for

Shared pieces live beside them: `formatting.py` (rendering), `progress.py` (job progress edits),
`admins.py` (who is an admin), `reply_roots.py` (reply chains as threads), `context.py` (what an
adapter is given). `console/` is the terminal (`kbot ask`, `kbot chat`), which `kbot run` does not drive.
"""

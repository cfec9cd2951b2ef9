"""kbot: a self-hosted knowledge bot for team chats."""

import os

# Haystack sends usage telemetry to PostHog on every pipeline run unless told not to. A self-hosted bot
# makes no calls its operator did not configure; set HAYSTACK_TELEMETRY_ENABLED=True to opt in.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

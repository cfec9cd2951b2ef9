"""The terminal: `kbot ask` and `kbot chat` (not a platform `kbot run` drives)."""

"""The local sandbox: an embedded AWS emulator running the real handlers (`webhookctl local up`)."""

"""Trying it: the local sandbox (an embedded emulator and the real handlers) and signed sample events."""

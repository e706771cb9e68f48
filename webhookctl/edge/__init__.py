"""The shared edge: AWS clients made once, the context click hands every command, errors, output helpers.

Everything else may import from here; this package imports nothing of webhookctl's but itself.
"""

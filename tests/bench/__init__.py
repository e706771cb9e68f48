"""`make bench`: performance figures, printed (targets live here, never in timed tests)."""

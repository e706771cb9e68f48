"""Code shared by the handlers; ships in handlers.zip beside them."""

"""Lambda handler code. In Lambda these modules are top level (receiver.handler); installed, they live here."""

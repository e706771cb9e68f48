"""The receiver Lambda function (placeholder until the handlers land)."""


def handler(event, context):
    raise NotImplementedError("receiver handler not implemented yet")

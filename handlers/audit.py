"""The audit Lambda function (placeholder until the handlers land)."""


def handler(event, context):
    raise NotImplementedError("audit handler not implemented yet")

"""The processor Lambda function (placeholder until the handlers land)."""


def handler(event, context):
    raise NotImplementedError("processor handler not implemented yet")

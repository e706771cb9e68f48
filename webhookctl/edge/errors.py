"""Errors the services raise; cli.py alone turns them into messages and exit codes."""


class WebhookctlError(Exception):
    """A failure the user can act on: the message says where and what next."""

    exit_code = 1


class UsageError(WebhookctlError):
    """Bad input: flags, settings, names. Nothing was changed."""

    exit_code = 2


class ConfigError(UsageError):
    """No region, no credentials, or a profile that does not exist."""


class PackagingError(WebhookctlError):
    """The handler or layer artifact could not be built."""


class StackError(WebhookctlError):
    """CloudFormation refused, failed, or left the stack in a state that needs a decision."""


class NotConfirmed(WebhookctlError):
    """The user declined, or no terminal was there to ask and --yes was not given."""


class Interrupted(WebhookctlError):
    """Ctrl-C: the message says what was left behind (a change set, a stack still updating, a move task)."""

    exit_code = 130

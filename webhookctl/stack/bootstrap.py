"""`bootstrap`: what an account and region need once before any deploy, like `cdk bootstrap`, made idempotently.

Two things: API Gateway's CloudWatch Logs role (an account-and-region setting the stage's access logs need and the
template leaves alone) and the managed artifact bucket deploy uploads to (made by the same code deploy uses).
`plan_bootstrap` only reads; `bootstrap` shows the plan, asks, and alone changes anything. Nothing here prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from webhookctl.edge.errors import Interrupted, NotConfirmed, WebhookctlError
from webhookctl.stack import bucket as buckets

if TYPE_CHECKING:
    from webhookctl.stack.deploy import Ui

ROLE_NAME = "webhookctl-apigateway-cloudwatch-logs"
LOGS_POLICY = "arn:{partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
APIGATEWAY = "apigateway.amazonaws.com"
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": APIGATEWAY}, "Action": "sts:AssumeRole"}]}
# IAM makes a new role assumable by API Gateway within seconds; a minute without it means something else is wrong.
ROLE_PROPAGATION_DELAYS = (2.0, 4.0, 8.0, 16.0, 30.0)
NOT_ASSUMABLE_YET = "does not have required permissions"
DONE = {"create": "created", "harden": "hardened"}


@dataclass(frozen=True)
class BootstrapOptions:
    yes: bool = False
    dry_run: bool = False


@dataclass(frozen=True)
class BootstrapPlan:
    """What is there and what bootstrap will do about it; None actions mean "already done"."""

    account: str
    region: str
    role_arn: str
    role_action: str | None  # "create" | "attach" (role there, policy not) | "set" (only the setting) | None
    bucket: str
    bucket_action: str | None  # "create" | "harden" | None

    @property
    def empty(self) -> bool:
        return self.role_action is None and self.bucket_action is None

    def describe(self) -> list[str]:
        role = {
            None: f"set to {self.role_arn} (kept)",
            "set": f"role {self.role_arn} exists: will set it as API Gateway's account setting",
            "attach": f"role {self.role_arn} exists: will attach AmazonAPIGatewayPushToCloudWatchLogs and set it "
                      "as API Gateway's account setting",
            "create": f"will create role {self.role_arn} (trusts {APIGATEWAY}, managed policy "
                      "AmazonAPIGatewayPushToCloudWatchLogs) and set it as API Gateway's account setting",
        }[self.role_action]
        bucket = {
            None: f"s3://{self.bucket} exists, hardened (kept)",
            "create": f"will create s3://{self.bucket} (private, encrypted, versioned, TLS only)",
            "harden": f"s3://{self.bucket} exists: will finish hardening it (private, encrypted, versioned, TLS only)",
        }[self.bucket_action]
        return [f"bootstrap of account {self.account} in {self.region}:",
                f"  API Gateway CloudWatch Logs role: {role}", f"  artifact bucket: {bucket}"]


@dataclass(frozen=True)
class BootstrapResult:
    plan: BootstrapPlan
    status: str  # UP_TO_DATE | PLANNED (--dry-run) | BOOTSTRAPPED


def bootstrap(clients: Any, ui: Ui, options: BootstrapOptions,
              sleep: Callable[[float], None]) -> BootstrapResult:
    """Plan, show, confirm, apply: a second run finds nothing to do and changes nothing."""
    plan = plan_bootstrap(clients)
    for line in plan.describe():
        ui.say(line)
    if plan.empty:
        ui.say(f"account {plan.account} is bootstrapped in {plan.region}: nothing to do")
        return BootstrapResult(plan, "UP_TO_DATE")
    if options.dry_run:
        ui.say("dry run: nothing was changed")
        return BootstrapResult(plan, "PLANNED")
    _confirm(ui, plan, options)
    try:
        apply_bootstrap(clients, plan, ui, sleep)
    except KeyboardInterrupt:
        raise Interrupted("interrupted: bootstrap may have stopped part-way; run it again to finish (every step "
                          "is idempotent)") from None
    ui.say(f"account {plan.account} is bootstrapped in {plan.region}")
    return BootstrapResult(plan, "BOOTSTRAPPED")


def plan_bootstrap(clients: Any) -> BootstrapPlan:
    """What the account and region lack, read without changing anything."""
    identity = clients.sts.get_caller_identity()
    account, partition = identity["Account"], identity["Arn"].split(":")[1]
    region = clients.region
    role_arn, role_action = _role_state(clients, account, partition)
    bucket = buckets.managed_bucket_name(account, region)
    return BootstrapPlan(account, region, role_arn, role_action, bucket,
                         buckets.managed_bucket_action(clients.s3, bucket, account))


def _role_state(clients: Any, account: str, partition: str) -> tuple[str, str | None]:
    """(role ARN, action): a role the account setting already names is adopted as it is, with no IAM call."""
    current = clients.apigateway.get_account().get("cloudwatchRoleArn")
    if current:
        return current, None
    role = _existing_role(clients.iam)
    if role is None:
        return f"arn:{partition}:iam::{account}:role/{ROLE_NAME}", "create"
    if not trusts_apigateway(role.get("AssumeRolePolicyDocument")):
        raise WebhookctlError(f"role {role['Arn']} exists but does not trust {APIGATEWAY}, so API Gateway "
                              f"cannot use it: add {APIGATEWAY} to its trust policy, or delete the role and run "
                              "bootstrap again")
    attached = clients.iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"]
    policy = LOGS_POLICY.format(partition=partition)
    return role["Arn"], "set" if any(p["PolicyArn"] == policy for p in attached) else "attach"


def _existing_role(iam: Any) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return iam.get_role(RoleName=ROLE_NAME)["Role"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return None
        raise


def trusts_apigateway(document: Any) -> bool:
    """Whether a trust policy lets API Gateway assume the role (botocore hands it back parsed, or as text)."""
    if isinstance(document, str):
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    statements = (document or {}).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        services = (statement.get("Principal") or {}).get("Service", [])
        actions = statement.get("Action", [])
        if (statement.get("Effect") == "Allow" and APIGATEWAY in _listed(services)
                and "sts:AssumeRole" in _listed(actions)):
            return True
    return False


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _confirm(ui: Ui, plan: BootstrapPlan, options: BootstrapOptions) -> None:
    """As deploy: --yes goes ahead, no terminal refuses, a terminal asks."""
    if options.yes:
        return
    if not ui.interactive:
        raise NotConfirmed(f"not bootstrapping account {plan.account} in {plan.region}: no terminal to confirm "
                           "on; re-run with --yes (or --dry-run to see the plan only)")
    if not ui.confirm(f"Bootstrap account {plan.account} in {plan.region} as shown?"):
        raise NotConfirmed("bootstrap cancelled: nothing was changed")


def apply_bootstrap(clients: Any, plan: BootstrapPlan, ui: Ui, sleep: Callable[[float], None]) -> None:
    """The plan's steps in order; each is idempotent, so a run stopped half-way is finished by the next."""
    if plan.role_action == "create":
        _create_role(clients.iam)
        ui.say(f"created role {plan.role_arn}")
    if plan.role_action in ("create", "attach"):
        clients.iam.attach_role_policy(RoleName=ROLE_NAME,
                                       PolicyArn=LOGS_POLICY.format(partition=plan.role_arn.split(":")[1]))
    if plan.role_action:
        set_logging_role(clients.apigateway, plan.role_arn, ui, sleep)
        ui.say(f"API Gateway in {plan.region} now logs to CloudWatch through {plan.role_arn}")
    if plan.bucket_action:
        buckets.prepare_managed_bucket(clients.s3, plan.bucket, plan.region, plan.account, plan.bucket_action)
        ui.say(f"{DONE[plan.bucket_action]} artifact bucket s3://{plan.bucket} (private, encrypted, versioned, "
               "TLS only)")


def _create_role(iam: Any) -> None:
    from botocore.exceptions import ClientError

    try:
        iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST),
                        Description="Lets API Gateway write its access and execution logs to CloudWatch Logs "
                                    "(made by webhookctl bootstrap)")
    except ClientError as exc:  # made since the plan was read (another bootstrap): adopt it
        if exc.response.get("Error", {}).get("Code") != "EntityAlreadyExists":
            raise


def set_logging_role(apigateway: Any, role_arn: str, ui: Ui, sleep: Callable[[float], None]) -> None:
    """UpdateAccount, retried while IAM has not yet made a new role assumable (it refuses it for a few seconds)."""
    from botocore.exceptions import ClientError

    patch = [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
    for delay in (*ROLE_PROPAGATION_DELAYS, None):
        try:
            apigateway.update_account(patchOperations=patch)
            return
        except ClientError as exc:
            if not _not_assumable_yet(exc):
                raise
            if delay is None:
                waited = sum(ROLE_PROPAGATION_DELAYS)
                raise WebhookctlError(f"API Gateway still refuses role {role_arn} after {waited:.0f} s "
                                      f"({exc.response['Error'].get('Message')}): check that it trusts "
                                      f"{APIGATEWAY} and has AmazonAPIGatewayPushToCloudWatchLogs, then run "
                                      "bootstrap again") from exc
            ui.say(f"API Gateway cannot assume {role_arn} yet (IAM is still propagating it): retrying in "
                   f"{delay:.0f} s")
            sleep(delay)


def _not_assumable_yet(exc: Any) -> bool:
    error = exc.response.get("Error", {})
    return error.get("Code") == "BadRequestException" and NOT_ASSUMABLE_YET in str(error.get("Message", ""))

"""`webhookctl bootstrap`: an account and region prepared once, before the first deploy."""

from __future__ import annotations

import click

from webhookctl.commands.options import aws_options, dump_json, format_option, yes_option
from webhookctl.edge.context import AppContext, pass_app


@click.command()
@aws_options
@yes_option
@click.option("--dry-run", is_flag=True, help="Show what would be created and change nothing.")
@format_option
@pass_app
def bootstrap(app: AppContext, yes: bool, dry_run: bool, output_format: str) -> None:
    """Prepare an account and region once: API Gateway's CloudWatch Logs role and the artifact bucket."""
    from webhookctl.commands.stack import ClickUi
    from webhookctl.edge.output import table
    from webhookctl.stack.bootstrap import BootstrapOptions
    from webhookctl.stack.bootstrap import bootstrap as prepare

    result = prepare(app.clients, ClickUi(app.is_terminal()), BootstrapOptions(yes=yes, dry_run=dry_run),
                     app.clock.sleep)
    plan = result.plan
    if output_format == "json":
        dump_json({"account": plan.account, "region": plan.region, "status": result.status,
                   "roleArn": plan.role_arn, "roleAction": plan.role_action, "bucket": plan.bucket,
                   "bucketAction": plan.bucket_action})
        return
    click.echo(table(("RESOURCE", "VALUE"), [("apigateway-cloudwatch-logs-role", plan.role_arn),
                                             ("artifact-bucket", plan.bucket)]))

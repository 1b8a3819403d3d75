"""Alerts: the SNS topic every alarm notifies, and its email subscriptions."""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AlertsArgs:
    #: The addresses subscribed to the topic (the stack's alarmEmails).
    emails: tuple[str, ...]


class Alerts(pulumi.ComponentResource):
    """A topic and its email subscribers."""

    topic_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hello-birthday:platform:Alerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Not encrypted with the AWS-managed SNS key: CloudWatch alarms cannot publish to that.
        topic = aws.sns.Topic(f"{name}-alarms", opts=child)
        for index, email in enumerate(args.emails):
            aws.sns.TopicSubscription(
                f"{name}-alarms-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=child,
            )

        self.topic_arn = topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})

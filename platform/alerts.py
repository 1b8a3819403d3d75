"""Alerts: the SNS topic every alarm notifies, and its email subscriptions."""

import pulumi
import pulumi_aws as aws


class Alerts(pulumi.ComponentResource):
    """A topic; subscribers come from the stack's alarmEmails."""

    topic_arn: pulumi.Output[str]

    def __init__(
        self, name: str, emails: tuple[str, ...], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hello-birthday:platform:Alerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Not encrypted with the AWS-managed SNS key: CloudWatch alarms cannot publish to that.
        topic = aws.sns.Topic(f"{name}-alarms", opts=child)
        for index, email in enumerate(emails):
            aws.sns.TopicSubscription(
                f"{name}-alarms-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=child,
            )

        self.topic_arn = topic.arn
        self.register_outputs({"topic_arn": self.topic_arn})

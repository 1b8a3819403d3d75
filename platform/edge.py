"""Edge: the public load balancer, its listeners and target groups, TLS, DNS and WAF."""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from config import DeliverySettings, EdgeSettings
from names import HEALTH_CHECK_PATH

from hello_birthday.ports import API_PORT

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ANYWHERE = "0.0.0.0/0"
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")


def _visibility(metric_name: str) -> aws.wafv2.WebAclVisibilityConfigArgs:
    return aws.wafv2.WebAclVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


@dataclass(frozen=True)
class EdgeArgs:
    settings: EdgeSettings
    delivery: DeliverySettings
    #: The stack's prefix for names AWS caps at 32 characters (config.StackSettings).
    short_name: str
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class Traffic:
    """The load balancer pieces the service registers with (and ECS re-weights in blue/green)."""

    primary_target_group_arn: pulumi.Input[str]
    alternate_target_group_arn: pulumi.Input[str] | None
    production_rule_arn: pulumi.Input[str]
    test_rule_arn: pulumi.Input[str] | None
    #: What the service waits for before it starts tasks behind the load balancer.
    dependencies: Sequence[pulumi.Resource]


class Edge(pulumi.ComponentResource):
    """ALB in the public subnets: with the `https` setting, HTTPS on the stack's domain and a
    redirect from HTTP; without it, HTTP only.

    Production traffic goes through a listener rule (the one ECS blue/green re-weights); with
    blue/green a second target group and a test listener let the new revision be checked
    before it takes traffic. The serving and test listeners have forward actions only
    (docs/architecture.md, "Edge"): the metrics are on a port no target group routes to.
    """

    url: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    load_balancer_arn_suffix: pulumi.Output[str]
    #: Every group the service's tasks register in (blue/green alternates between two).
    target_group_arn_suffixes: list[pulumi.Output[str]]
    traffic: Traffic

    def __init__(
        self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hello-birthday:platform:Edge", name, None, opts)
        self._name = name
        # pulumi-aws names a load balancer or target group <logical name>-<7 random characters>
        # and AWS refuses more than 32: those logical names start with the short prefix. The
        # random part stays, so a replaced target group can exist beside the old one.
        self._short_name = args.short_name
        settings, delivery = args.settings, args.delivery

        security_group = self._security_group(args)
        balancer = self._load_balancer(args, security_group)
        self._primary = self._target_group("blue", args)
        self._alternate = self._target_group("green", args) if delivery.blue_green else None

        certificate_arn = self._certificate(settings) if settings.https else None
        serving = self._forwarding_listener(
            "https" if certificate_arn else "http",
            balancer,
            port=443 if certificate_arn else 80,
            certificate_arn=certificate_arn,
        )
        if certificate_arn:
            self._redirect_to_https(balancer)
            self._alias(settings, balancer)
        production_rule = self._forward_rule("production", serving, delivery.blue_green)
        test_rule = None
        if delivery.blue_green:
            test_listener = self._forwarding_listener(
                "test", balancer, port=delivery.test_listener_port, certificate_arn=certificate_arn
            )
            test_rule = self._forward_rule("test", test_listener, blue_green=True)

        if settings.waf:
            self._firewall(settings, balancer)

        self.url = (
            pulumi.Output.from_input(f"https://{settings.domain}")
            if certificate_arn
            else balancer.dns_name.apply(lambda dns: f"http://{dns}")
        )
        self.security_group_id = security_group.id
        self.load_balancer_arn_suffix = balancer.arn_suffix
        self.target_group_arn_suffixes = [
            group.arn_suffix for group in (self._primary, self._alternate) if group is not None
        ]
        self.traffic = Traffic(
            primary_target_group_arn=self._primary.arn,
            alternate_target_group_arn=self._alternate.arn if self._alternate else None,
            production_rule_arn=production_rule.arn,
            test_rule_arn=test_rule.arn if test_rule else None,
            # Every listener, rule and target group: the whole edge.
            dependencies=[self],
        )
        self.register_outputs(
            {
                "url": self.url,
                "security_group_id": self.security_group_id,
                "load_balancer_arn_suffix": self.load_balancer_arn_suffix,
            }
        )

    def _security_group(self, args: EdgeArgs) -> aws.ec2.SecurityGroup:
        """The load balancer's group: the public ports from anywhere, the test listener's from
        its own addresses."""
        security_group = aws.ec2.SecurityGroup(
            f"{self._name}-alb",
            vpc_id=args.vpc_id,
            description="Public load balancer",
            opts=pulumi.ResourceOptions(parent=self),
        )
        public_ports = [443, 80] if args.settings.https else [80]
        for port in public_ports:
            self._ingress(security_group, port, ANYWHERE)
        delivery = args.delivery
        for index, cidr in enumerate(delivery.test_listener_cidrs):
            self._ingress(security_group, delivery.test_listener_port, cidr, suffix=str(index))
        return security_group

    def _load_balancer(
        self, args: EdgeArgs, security_group: aws.ec2.SecurityGroup
    ) -> aws.lb.LoadBalancer:
        return aws.lb.LoadBalancer(
            f"{self._short_name}-alb",
            load_balancer_type="application",
            internal=False,
            subnets=list(args.public_subnet_ids),
            security_groups=[security_group.id],
            drop_invalid_header_fields=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _ingress(
        self, group: aws.ec2.SecurityGroup, port: int, cidr: str, suffix: str = ""
    ) -> None:
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-alb-{port}{'-' + suffix if suffix else ''}",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=cidr,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _target_group(self, colour: str, args: EdgeArgs) -> aws.lb.TargetGroup:
        return aws.lb.TargetGroup(
            f"{self._short_name}-{colour}",
            vpc_id=args.vpc_id,
            target_type="ip",
            protocol="HTTP",
            port=API_PORT,
            # Shorter than the task's stop timeout, so draining ends before SIGKILL can.
            deregistration_delay=args.delivery.deregistration_delay_seconds,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=HEALTH_CHECK_PATH,
                matcher="200",
                interval=10,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _forwarding_listener(
        self,
        suffix: str,
        balancer: aws.lb.LoadBalancer,
        *,
        port: int,
        certificate_arn: pulumi.Output[str] | None,
    ) -> aws.lb.Listener:
        """A listener whose forwarding rule (_forward_rule) routes to the target groups: HTTPS
        when the stack has a certificate, HTTP otherwise."""
        return aws.lb.Listener(
            f"{self._name}-{suffix}",
            load_balancer_arn=balancer.arn,
            port=port,
            protocol="HTTPS" if certificate_arn else "HTTP",
            ssl_policy=TLS_POLICY if certificate_arn else None,
            certificate_arn=certificate_arn,
            default_actions=[self._forward_default()],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _redirect_to_https(self, balancer: aws.lb.LoadBalancer) -> None:
        aws.lb.Listener(
            f"{self._name}-http-redirect",
            load_balancer_arn=balancer.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port="443", status_code="HTTP_301"
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _forward_rule(
        self, purpose: str, listener: aws.lb.Listener, blue_green: bool
    ) -> aws.lb.ListenerRule:
        groups = [
            aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=self._primary.arn, weight=100)
        ]
        if self._alternate is not None:
            groups.append(
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=self._alternate.arn, weight=0)
            )
        return aws.lb.ListenerRule(
            f"{self._name}-{purpose}",
            listener_arn=listener.arn,
            priority=100,
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=["/*"])
                )
            ],
            actions=[
                aws.lb.ListenerRuleActionArgs(
                    type="forward",
                    forward=aws.lb.ListenerRuleActionForwardArgs(target_groups=groups),
                )
            ],
            # ECS blue/green shifts the weights during a deployment; Pulumi must not undo that.
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["actions"] if blue_green else None
            ),
        )

    def _forward_default(self) -> aws.lb.ListenerDefaultActionArgs:
        """A listener's default: the forwarding rule's `/*` takes every request with a path, so
        this sees only the rest (`OPTIONS *`). A forward, not a fixed response, so no listener
        ECS works with mixes action types."""
        return aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self._primary.arn)

    def _certificate(self, settings: EdgeSettings) -> pulumi.Output[str]:
        certificate = aws.acm.Certificate(
            f"{self._name}-certificate",
            domain_name=settings.domain,
            validation_method="DNS",
            opts=pulumi.ResourceOptions(parent=self),
        )
        option = certificate.domain_validation_options[0]
        record = aws.route53.Record(
            f"{self._name}-certificate-validation",
            zone_id=settings.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            allow_overwrite=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        validation = aws.acm.CertificateValidation(
            f"{self._name}-certificate",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return validation.certificate_arn

    def _alias(self, settings: EdgeSettings, balancer: aws.lb.LoadBalancer) -> None:
        aws.route53.Record(
            f"{self._name}-alias",
            zone_id=settings.hosted_zone_id,
            name=settings.domain,
            type="A",
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=balancer.dns_name, zone_id=balancer.zone_id, evaluate_target_health=True
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _firewall(self, settings: EdgeSettings, balancer: aws.lb.LoadBalancer) -> None:
        rate_rule = aws.wafv2.WebAclRuleArgs(
            name="rate-limit-per-ip",
            priority=0,
            action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                    limit=settings.waf_rate_limit, aggregate_key_type="IP"
                )
            ),
            visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True,
                metric_name="rate-limit-per-ip",
                sampled_requests_enabled=True,
            ),
        )
        managed_rules = [
            aws.wafv2.WebAclRuleArgs(
                name=group,
                priority=priority,
                # Keep each managed group's own block actions (override: none).
                override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                    # The generated empty Args class has an unannotated __init__.
                    none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()  # type: ignore[no-untyped-call]
                ),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                        name=group, vendor_name="AWS"
                    )
                ),
                visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                    cloudwatch_metrics_enabled=True,
                    metric_name=group,
                    sampled_requests_enabled=True,
                ),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        acl = aws.wafv2.WebAcl(
            f"{self._name}-waf",
            scope="REGIONAL",
            default_action=aws.wafv2.WebAclDefaultActionArgs(
                allow=aws.wafv2.WebAclDefaultActionAllowArgs()
            ),
            rules=[rate_rule, *managed_rules],
            visibility_config=_visibility(f"{self._name}-waf"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.wafv2.WebAclAssociation(
            f"{self._name}-waf",
            resource_arn=balancer.arn,
            web_acl_arn=acl.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )

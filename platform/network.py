"""Network: a VPC over N zones, public subnets for the ALB, private ones for tasks."""

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from config import NetworkSettings

SUBNET_PREFIX = 20


@dataclass(frozen=True)
class NetworkArgs:
    settings: NetworkSettings
    #: The region of the DynamoDB endpoint.
    region: str


class Network(pulumi.ComponentResource):
    """Public and private subnets per zone, NAT sized per environment, DynamoDB gateway endpoint."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("hello-birthday:platform:Network", name, None, opts)
        self._name = name
        settings = args.settings
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, opts=pulumi.ResourceOptions(parent=self)
        )
        public, private = self._subnets(settings, vpc, gateway)
        nats = self._nat_gateways(settings, public, gateway)
        private_routes = self._private_routes(vpc, private, nats)
        # DynamoDB traffic stays on the AWS network and skips the NAT gateways' per-GB charge.
        aws.ec2.VpcEndpoint(
            f"{name}-dynamodb",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.dynamodb",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_routes],
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.vpc_id = vpc.id
        self.public_subnet_ids = [subnet.id for subnet in public]
        self.private_subnet_ids = [subnet.id for subnet in private]
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
            }
        )

    def _subnets(
        self, settings: NetworkSettings, vpc: aws.ec2.Vpc, gateway: aws.ec2.InternetGateway
    ) -> tuple[list[aws.ec2.Subnet], list[aws.ec2.Subnet]]:
        """A public and a private subnet in each zone; the public ones route to the internet."""
        child = pulumi.ResourceOptions(parent=self)
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        ).names
        network = ipaddress.ip_network(settings.cidr)
        blocks = [str(block) for block in network.subnets(new_prefix=SUBNET_PREFIX)]
        public_routes = aws.ec2.RouteTable(
            f"{self._name}-public",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            opts=child,
        )
        public: list[aws.ec2.Subnet] = []
        private: list[aws.ec2.Subnet] = []
        for index in range(settings.az_count):
            public.append(self._subnet(f"public-{index}", vpc, zones[index], blocks[index]))
            private.append(
                self._subnet(
                    f"private-{index}", vpc, zones[index], blocks[settings.az_count + index]
                )
            )
            aws.ec2.RouteTableAssociation(
                f"{self._name}-public-{index}",
                subnet_id=public[index].id,
                route_table_id=public_routes.id,
                opts=child,
            )
        return public, private

    def _subnet(
        self,
        suffix: str,
        vpc: aws.ec2.Vpc,
        zone: pulumi.Input[str],
        cidr_block: str,
    ) -> aws.ec2.Subnet:
        return aws.ec2.Subnet(
            f"{self._name}-{suffix}",
            vpc_id=vpc.id,
            availability_zone=zone,
            cidr_block=cidr_block,
            map_public_ip_on_launch=False,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _nat_gateways(
        self,
        settings: NetworkSettings,
        public: list[aws.ec2.Subnet],
        gateway: aws.ec2.InternetGateway,
    ) -> list[aws.ec2.NatGateway]:
        return [
            aws.ec2.NatGateway(
                f"{self._name}-nat-{index}",
                subnet_id=public[index].id,
                allocation_id=aws.ec2.Eip(
                    f"{self._name}-nat-{index}",
                    domain="vpc",
                    opts=pulumi.ResourceOptions(parent=self),
                ).id,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
            )
            for index in range(settings.nat_gateways)
        ]

    def _private_routes(
        self, vpc: aws.ec2.Vpc, private: list[aws.ec2.Subnet], nats: list[aws.ec2.NatGateway]
    ) -> list[aws.ec2.RouteTable]:
        """One route table per private subnet, out through a NAT gateway."""
        child = pulumi.ResourceOptions(parent=self)
        tables = []
        for index, subnet in enumerate(private):
            # Zones without their own NAT gateway share one (cheaper, but not zone-independent).
            table = aws.ec2.RouteTable(
                f"{self._name}-private-{index}",
                vpc_id=vpc.id,
                routes=[
                    aws.ec2.RouteTableRouteArgs(
                        cidr_block="0.0.0.0/0", nat_gateway_id=nats[index % len(nats)].id
                    )
                ],
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{self._name}-private-{index}",
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=child,
            )
            tables.append(table)
        return tables

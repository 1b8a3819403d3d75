"""Network: a VPC over N zones, public subnets for the ALB, private ones for tasks."""

import ipaddress

import pulumi
import pulumi_aws as aws
from config import NetworkSettings

SUBNET_PREFIX = 20


class Network(pulumi.ComponentResource):
    """Public and private subnets per zone, NAT sized per environment, DynamoDB gateway endpoint."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        settings: NetworkSettings,
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("hello-birthday:platform:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        ).names
        blocks = list(ipaddress.ip_network(settings.cidr).subnets(new_prefix=SUBNET_PREFIX))

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            opts=child,
        )

        public: list[aws.ec2.Subnet] = []
        private: list[aws.ec2.Subnet] = []
        for index in range(settings.az_count):
            zone = zones[index]
            public.append(
                aws.ec2.Subnet(
                    f"{name}-public-{index}",
                    vpc_id=vpc.id,
                    availability_zone=zone,
                    cidr_block=str(blocks[index]),
                    map_public_ip_on_launch=False,
                    opts=child,
                )
            )
            private.append(
                aws.ec2.Subnet(
                    f"{name}-private-{index}",
                    vpc_id=vpc.id,
                    availability_zone=zone,
                    cidr_block=str(blocks[settings.az_count + index]),
                    map_public_ip_on_launch=False,
                    opts=child,
                )
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}",
                subnet_id=public[index].id,
                route_table_id=public_routes.id,
                opts=child,
            )

        nats = [
            aws.ec2.NatGateway(
                f"{name}-nat-{index}",
                subnet_id=public[index].id,
                allocation_id=aws.ec2.Eip(f"{name}-nat-{index}", domain="vpc", opts=child).id,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
            )
            for index in range(settings.nat_gateways)
        ]
        private_routes = []
        for index, subnet in enumerate(private):
            # Zones without their own NAT gateway share one (cheaper, but not zone-independent).
            table = aws.ec2.RouteTable(
                f"{name}-private-{index}",
                vpc_id=vpc.id,
                routes=[
                    aws.ec2.RouteTableRouteArgs(
                        cidr_block="0.0.0.0/0", nat_gateway_id=nats[index % len(nats)].id
                    )
                ],
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            private_routes.append(table)

        # DynamoDB traffic stays on the AWS network and skips the NAT gateways' per-GB charge.
        aws.ec2.VpcEndpoint(
            f"{name}-dynamodb",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.dynamodb",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_routes],
            opts=child,
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

"""`nox -s diagram`: draw docs/architecture.png, the system as deployed to AWS (one stack).

Drawn with the `diagrams` package, which calls graphviz's `dot` (apt-get install graphviz).
docs/architecture.md holds the same picture as Mermaid diagrams, with the details.
"""

import shutil
import sys
from pathlib import Path

from diagrams import Cluster, Diagram, Edge
from diagrams.aws.compute import ECR, ElasticContainerServiceService, Fargate
from diagrams.aws.database import DynamodbTable
from diagrams.aws.general import Users
from diagrams.aws.integration import SimpleNotificationServiceSns
from diagrams.aws.management import Cloudwatch, CloudwatchAlarm, CloudwatchLogs
from diagrams.aws.network import ALB, Endpoint, NATGateway, Route53
from diagrams.aws.security import ACM, KMS, WAF
from diagrams.onprem.ci import GithubActions

GRAPH = {"fontsize": "20", "pad": "0.4", "nodesep": "0.6", "ranksep": "1.0", "splines": "spline"}


def draw(output: Path) -> None:
    """Render the diagram to output (a .png path)."""
    with Diagram(
        "hello-birthday on AWS (one stack: dev, staging or prod)",
        filename=str(output.with_suffix("")),
        outformat="png",
        show=False,
        direction="LR",
        graph_attr=GRAPH,
    ):
        users = Users("clients")
        pipeline = GithubActions("GitHub Actions\nbuild, scan, promote\n(OIDC role)")
        registry = ECR("ECR\nimmutable SHA tags\nscan on push")

        with Cluster("Edge"):
            dns = Route53("Route 53")
            certificate = ACM("ACM certificate")
            firewall = WAF("WAF\nrate limit +\nmanaged rules")

        with Cluster("VPC (2-3 availability zones)"):
            with Cluster("public subnets"):
                balancer = ALB("ALB\nproduction listener\n+ test listener")
                nat = NATGateway("NAT gateway(s)")
            with Cluster("private subnets: ECS Fargate service"):
                blue = Fargate("blue revision\n(tasks in each AZ)")
                green = Fargate("green revision\n(during a deploy)")
                service = ElasticContainerServiceService(
                    "service: autoscaling,\nalarm rollback,\ncircuit breaker (rolling)"
                )
            dynamodb_endpoint = Endpoint("DynamoDB\ngateway endpoint")

        with Cluster("Data"):
            table = DynamodbTable("DynamoDB table\non demand, PITR")
            key = KMS("KMS key")

        with Cluster("Observability"):
            logs = CloudwatchLogs("JSON access logs")
            metrics = Cloudwatch("metrics + dashboard")
            alarms = CloudwatchAlarm("alarms: 5xx, p99,\nhosts, throttles, tasks")
            topic = SimpleNotificationServiceSns("SNS alarm topic")

        # The request path sets the left-to-right order; the other edges do not move nodes.
        users >> Edge(label="HTTPS") >> firewall >> balancer
        balancer >> Edge(label="HTTP 8000") >> [blue, green]
        [blue, green] >> dynamodb_endpoint >> table
        users >> Edge(label="DNS", style="dotted") >> dns
        certificate >> Edge(style="dotted") >> balancer
        key >> Edge(style="dotted", label="encrypts", constraint="false") >> table
        service >> Edge(style="dotted") >> [blue, green]
        pipeline >> Edge(label="push image") >> registry
        pipeline >> Edge(label="pulumi up") >> service
        registry >> Edge(label="image pull", style="dashed") >> nat
        [blue, green] >> Edge(style="dashed", constraint="false") >> nat
        [blue, green] >> Edge(style="dashed", constraint="false") >> logs
        balancer >> Edge(style="dashed", label="metrics") >> metrics >> alarms >> topic
        alarms >> Edge(label="rollback", color="firebrick", constraint="false") >> service


def main(argv: list[str]) -> int:
    if shutil.which("dot") is None:
        print("graphviz is missing: apt-get install graphviz", file=sys.stderr)
        return 1
    output = Path(argv[0] if argv else "docs/architecture.png")
    output.parent.mkdir(parents=True, exist_ok=True)
    draw(output)
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

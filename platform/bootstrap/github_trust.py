"""Who may assume the roles: GitHub Actions jobs of one repository, through GitHub's OIDC issuer.

A deploy role trusts only the jobs that run in its GitHub environment (whose reviewers and
branch rules GitHub enforces); the preview role only the repository's pull-request jobs. Both
also require the token's audience to be AWS STS. The subjects are compared exactly
(StringEquals): a value with `*` would be a wildcard only under StringLike, which is never used.
"""

import json

import pulumi
import pulumi_aws as aws

ISSUER_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"


def environment_subject(repository: str, github_environment: str) -> str:
    """The `sub` claim of a job that runs in a GitHub environment."""
    return f"repo:{repository}:environment:{github_environment}"


def pull_request_subject(repository: str) -> str:
    """The `sub` claim of a job that a pull request triggered (and runs in no environment)."""
    return f"repo:{repository}:pull_request"


def provider_arn(account_id: str) -> str:
    """The ARN AWS gives the provider (one per issuer and account)."""
    return f"arn:aws:iam::{account_id}:oidc-provider/{ISSUER_HOST}"


def trust_policy(account_id: str, subject: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "GitHubActions",
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn(account_id)},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{ISSUER_HOST}:aud": AUDIENCE,
                            f"{ISSUER_HOST}:sub": subject,
                        }
                    },
                }
            ],
        }
    )


def github_oidc_provider(opts: pulumi.ResourceOptions) -> aws.iam.OpenIdConnectProvider:
    """GitHub's issuer, for AWS STS only. No thumbprint: AWS checks GitHub's certificate
    against its own trusted authorities for this issuer."""
    return aws.iam.OpenIdConnectProvider(
        "github-actions",
        url=f"https://{ISSUER_HOST}",
        client_id_lists=[AUDIENCE],
        opts=opts,
    )

"""The deploy program: `python -m deploy --stack STACK --image REPO@sha256:DIGEST`.

The steps and why they are in that order: deployment.py.
"""

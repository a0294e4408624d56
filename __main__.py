"""Entry point of the agent-platform Pulumi program; everything lives in ``infra``."""

from infra.program import run

run()

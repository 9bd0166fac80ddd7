"""AWS for the ecs infrastructure's tests: moto in server mode (a real HTTP endpoint), plus a task driver.

The agent talks to moto over HTTP exactly as it would to AWS (`endpoint_url` in its credentials
block). moto's ECS does not run containers: a task it starts stays RUNNING here (the test sets
moto's state manager, through its `/moto-api/` HTTP API, so that describing a task never moves
it on), and `MotoAws.end_task` / `hold_task` drive a task's state the way ECS would. moto has no
API for a container's exit code or a stop code, so those two methods set them on moto's
in-memory task: ThreadedMotoServer serves from this process, so its backends are this module's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3  # type: ignore[import-untyped]
import httpx
from moto.ecs.models import ecs_backends
from moto.logs.models import logs_backends
from moto.server import ThreadedMotoServer

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
ACCESS_KEY_ID = "AKIATETHERTESTS00001"
SECRET_ACCESS_KEY = "not-a-real-secret-for-moto"  # moto accepts any key
CLUSTER = "flows"
# Enough describes that moto never advances a task on its own during a test.
NEVER = 10**9


@dataclass
class MotoAws:
    endpoint_url: str
    subnets: list[str] = field(default_factory=list)
    security_group: str = ""
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def credentials(self, **overrides: Any) -> dict[str, Any]:
        """What the agent receives for `aws_credentials` once the block is resolved."""
        return {
            "aws_access_key_id": ACCESS_KEY_ID,
            "aws_secret_access_key": SECRET_ACCESS_KEY,
            "region_name": REGION,
            "endpoint_url": self.endpoint_url,
            **overrides,
        }

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                region_name=REGION,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=ACCESS_KEY_ID,
                aws_secret_access_key=SECRET_ACCESS_KEY,
            )
        return self._clients[service]

    def prepare(self) -> None:
        """Once per server: the network the tasks go in, and tasks that stay RUNNING until a test ends them."""
        httpx.post(
            f"{self.endpoint_url}/moto-api/state-manager/set-transition",
            json={"model_name": "ecs::task", "transition": {"progression": "manual", "times": NEVER}},
        ).raise_for_status()
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        # moto attaches a task's network interface only in a VPC with DNS hostnames, as AWS does.
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        self.subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
        self.security_group = ec2.create_security_group(GroupName="flows", Description="flow runs", VpcId=vpc)[
            "GroupId"
        ]

    def reset(self) -> None:
        """Forget every task, task definition and log, and start from an empty cluster.

        Only ECS and CloudWatch Logs are reset (moto's /moto-api/reset would rebuild EC2 too, which
        takes seconds on a busy machine), through the backends this process serves from.
        """
        ecs_backends[ACCOUNT_ID][REGION].reset()
        logs_backends[ACCOUNT_ID][REGION].reset()
        self.client("ecs").create_cluster(clusterName=CLUSTER)

    def _task(self, task_arn: str) -> Any:
        for tasks in ecs_backends[ACCOUNT_ID][REGION].tasks.values():
            if task_arn in tasks:
                return tasks[task_arn]
        raise KeyError(task_arn)

    def hold_task(self, task_arn: str, status: str) -> None:
        """Put a task back in a state ECS would report before it runs (PROVISIONING, PENDING)."""
        self._task(task_arn).last_status = status

    def end_task(
        self,
        task_arn: str,
        *,
        exit_code: int | None,
        stopped_reason: str = "Essential container in task exited",
        stop_code: str = "EssentialContainerExited",
        container_reason: str | None = None,
    ) -> None:
        """The task's container ended (`exit_code`) or never ran (None): the task is STOPPED."""
        task = self._task(task_arn)
        container = task.containers[0]
        container.exitCode = exit_code
        container.last_status = "STOPPED"
        if container_reason is not None:
            container.reason = container_reason
        task.stop_code = stop_code
        task.stopped_reason = stopped_reason
        task.desired_status = "STOPPED"
        task.last_status = "STOPPED"

    def task(self, task_arn: str) -> dict[str, Any]:
        """The task as DescribeTasks shows it (with its tags)."""
        described = self.client("ecs").describe_tasks(cluster=CLUSTER, tasks=[task_arn], include=["TAGS"])
        return dict(described["tasks"][0])


@contextlib.contextmanager
def moto_aws() -> Iterator[MotoAws]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint_url = f"http://{host}:{port}"
    try:
        aws = MotoAws(endpoint_url=endpoint_url)
        aws.prepare()
        yield aws
    finally:
        # The state manager is moto's, process-wide: leave the default for any other moto user.
        httpx.post(f"{endpoint_url}/moto-api/state-manager/unset-transition", json={"model_name": "ecs::task"})
        server.stop()

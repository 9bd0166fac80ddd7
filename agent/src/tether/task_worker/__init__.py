"""`tether task-worker serve module:task ...`: runs background task runs queued by `task.delay()`.

Outbound only, like the agent: it long-polls claims for the task keys it serves, heartbeats
its leases from a thread, runs each task with the task engine (retries, timeouts, caching,
hooks, logs) and reports every state with the lease's epoch. See docs/background-tasks.md.
"""

from tether.task_worker.loading import load_tasks
from tether.task_worker.worker import TaskWorker

__all__ = ["TaskWorker", "load_tasks"]

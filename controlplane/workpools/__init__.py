"""Work pools, queues, agents, leases and dispatch."""

"""Test nodes: node and node-request state machines, quota, autohold, pure."""

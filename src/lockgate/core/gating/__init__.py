"""The gating core: pipelines, queues, items, build sets and the managers that
move them, as pure state machines driven by events and answering with actions."""

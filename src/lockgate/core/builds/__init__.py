"""What a build is made of before it runs: its workspace plan, its `zuul`
variables, its inventory, and how phase outcomes make its result."""

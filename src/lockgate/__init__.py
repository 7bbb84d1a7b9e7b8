"""lockgate: a self-hosted project gating system."""

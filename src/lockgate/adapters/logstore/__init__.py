"""Stores of build logs, behind the LogStore port of services/node_ports.py."""

"""The providers a site's `[nodepool]` settings describe, built for the launcher.

A `[[nodepool.providers]]` entry names its driver and pools; the driver's own
options (docs/nodes.md, "Providers") come as a plain mapping, so that the
settings model may carry them however it likes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lockgate.adapters.providers.local import local_from_options
from lockgate.adapters.providers.static import static_from_options
from lockgate.adapters.site import LabelSettings, ProviderSettings
from lockgate.services.launcher import pools_of
from lockgate.services.node_ports import Provider


def build_provider(
    provider: ProviderSettings,
    labels: Sequence[LabelSettings],
    *,
    run_folder: Path,
    options: Mapping[str, Any] | None = None,
) -> Provider:
    """The provider of one settings entry. `run_folder`: the site's run folder,
    under which node folders and known-hosts files go by default."""
    pools = pools_of(provider)
    if provider.driver == "local":
        served = set().union(*(pool.labels for pool in pools))
        networks = {label.name: label.network for label in labels if label.name in served}
        return local_from_options(
            provider.name, options or {}, run_folder=run_folder, labels=networks, pools=pools
        )
    # a static pool is its hosts' slots; the settings' pools give the retries
    first = pools[0]
    return static_from_options(
        provider.name,
        options or {},
        run_folder=run_folder,
        launch_retries=first.launch_retries,
        boot_timeout=first.boot_timeout,
    )

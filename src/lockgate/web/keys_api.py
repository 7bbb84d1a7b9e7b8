"""Projects' public keys for Zuul secrets, where Zuul serves them:
`GET /api/tenant/{tenant}/key/{project}.pub`, so that `zuul-client encrypt`,
Zuul's `encrypt_secret.py` and `lockgate encrypt` fetch them unchanged.

Open to anyone, as Zuul's is: a public key is public. The project's key pair
is made on the first request (4096-bit RSA takes a moment).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.adapters.secret_keys import SecretKeys
from lockgate.services.errors import NotFound
from lockgate.web.auth import services_of
from lockgate.web.gerrit.params import path_param

PEM_MEDIA_TYPE = "text/plain"


def _keys(request: Request) -> SecretKeys:
    state = request.app.state
    keys = getattr(state, "secret_keys", None)
    if keys is None:
        keys = SecretKeys.of_site(services_of(request).site.root)
        state.secret_keys = keys
    assert isinstance(keys, SecretKeys)
    return keys


async def project_key(request: Request) -> Response:
    tenant_name = path_param(request, "tenant")
    project = path_param(request, "project")
    catalog = services_of(request).tenants
    tenant = catalog.tenant(tenant_name)
    if tenant is None:
        raise NotFound(f"tenant {tenant_name} not found")
    names = {
        p.name
        for p in (*tenant.config_projects, *tenant.untrusted_projects)
        if p.connection == catalog.connection
    }
    if project not in names:
        raise NotFound(f"project {project} is not in tenant {tenant_name}")
    pem = await run_in_threadpool(_keys(request).public_pem, project)
    return Response(
        pem,
        media_type=PEM_MEDIA_TYPE,
        headers={"Access-Control-Allow-Origin": "*"},
    )


routes: list[BaseRoute] = [
    Route("/api/tenant/{tenant}/key/{project:path}.pub", project_key, methods=["GET"]),
]

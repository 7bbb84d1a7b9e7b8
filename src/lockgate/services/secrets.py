"""Decrypting a build's secrets for the executor.

The executor asks once per build, before it asks for nodes:

    secrets = service.for_build(action.job, pipeline_post_review=action.post_review,
                                project=item_project(action))

`for_build` checks who may see what (`core.secrets.secrets_for`), takes each
secret's definition as the job was frozen with it (`FrozenSecret.data`, from
the layout the item's job graph came from; a lookup may be given instead),
decrypts its encrypted values with
the key of the project that defined it, and hands back the variables per
playbook and the values to mask out of the build's logs. A refusal or a value that
cannot be decrypted is a `SecretsUnavailable` whose message the executor
reports as the build's error; the build must not run without its secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lockgate.core.config.frozen import FrozenJob, FrozenPlaybook, FrozenSecret
from lockgate.core.config.objects import SecretDef
from lockgate.core.config.source import Where
from lockgate.core.gating.actions import StartBuild
from lockgate.core.secrets import SecretFormatError, decrypt_data, mask, secrets_for


class SecretKeysPort(Protocol):
    """What decrypting needs of the key store (`adapters.secret_keys.SecretKeys`)."""

    def decrypt(self, project: str, chunks: Sequence[str]) -> str: ...


class SecretsUnavailable(Exception):
    """The build may not have, or cannot get, a secret it uses."""


# Secret definitions by name: a mapping, or a lookup such as `Layout.secret`.
SecretLookup = Mapping[str, SecretDef] | Callable[[str], SecretDef | None]


@dataclass(frozen=True, slots=True)
class BuildSecrets:
    """A build's decrypted secrets: by variable name, and which playbook sees which."""

    variables: Mapping[str, Any] = field(default_factory=dict)
    values: tuple[str, ...] = ()  # every decrypted value, for masking

    def for_playbook(self, playbook: FrozenPlaybook) -> dict[str, Any]:
        """The variables `playbook` may see (its level's secrets)."""
        return {name: self.variables[name] for name in playbook.secrets if name in self.variables}

    def mask(self, text: str) -> str:
        return mask(text, self.values)


class SecretService:
    def __init__(self, keys: SecretKeysPort) -> None:
        self._keys = keys

    def for_build(
        self,
        job: FrozenJob,
        *,
        pipeline_post_review: bool,
        secrets: SecretLookup | None = None,
        project: str | None = None,
    ) -> BuildSecrets:
        """Decrypt what `job` may see in a pipeline; `project` is the item's
        project. Definitions come from `secrets` when given, else from the job."""
        if not job.secrets:
            return BuildSecrets()
        access = secrets_for(job, pipeline_post_review, project=project)
        if not access.ok:
            raise SecretsUnavailable(access.reason())
        variables: dict[str, Any] = {}
        values: list[str] = []
        for use in access.allowed:
            definition = _definition(use, secrets)
            if definition is None:
                raise SecretsUnavailable(
                    f'job "{job.name}" uses the secret "{use.secret}", which the layout '
                    "no longer defines; the configuration changed under the build"
                )

            def decrypt(
                chunks: tuple[str, ...],
                where: Where,
                owner: str = use.project,
                name: str = use.secret,
            ) -> str:
                try:
                    plain = self._keys.decrypt(owner, chunks)
                except Exception as error:  # the key store names the key and the fix
                    raise SecretsUnavailable(f"{where}: secret {name}: {error}") from error
                values.append(plain)
                return plain

            try:
                data = decrypt_data(definition.data, decrypt)
            except SecretFormatError as error:
                raise SecretsUnavailable(f"secret {definition.name}: {error}") from error
            variables[use.name] = data
        return BuildSecrets(variables, tuple(dict.fromkeys(values)))


def item_project(action: StartBuild) -> str | None:
    """The project of the item a build is for: its change's, or its ref's."""
    if action.changes:
        return action.changes[-1].project
    return action.ref.project if action.ref is not None else None


def _definition(use: FrozenSecret, secrets: SecretLookup | None) -> SecretDef | None:
    if secrets is None:
        return None if use.data is None else SecretDef(use.secret, use.data)
    if isinstance(secrets, Mapping):
        return secrets.get(use.secret)
    return secrets(use.secret)

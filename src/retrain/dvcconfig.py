"""DVC's config files (.dvc/config, .dvc/config.local), read and written through DVC's own config API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrain.errors import BadInputError


def _open_config_repo(root: Path) -> Any:
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        return Repo(str(root))
    except NotDvcRepoError:
        raise BadInputError(f"{root}: not a DVC repository (no .dvc folder); run this in the project.") from None


@dataclass(frozen=True)
class RemoteChange:
    changed: bool  # False: the committed config already named `url`
    shadowed_by: str | None  # the url this clone's .dvc/config.local overrides the remote with, if any


def set_remote_url(root: Path, name: str, url: str, config_file: str) -> RemoteChange:
    """Point remote `name` at `url` in the repository's own config (`config_file`, committed), through DVC's config
    API, with the repository opened once."""
    repo = _open_config_repo(root)
    try:
        remotes = repo.config.read("repo").get("remote", {})
        if name not in remotes:
            known = ", ".join(remotes) or "none"
            raise BadInputError(f"no remote `{name}` in {config_file} (known: {known}); pass --name.")
        if remotes[name].get("url") == url:
            return RemoteChange(changed=False, shadowed_by=None)
        with repo.config.edit("repo") as conf:
            conf["remote"][name]["url"] = url
        shadowed: str | None = repo.config.read("local").get("remote", {}).get(name, {}).get("url")
        return RemoteChange(changed=True, shadowed_by=shadowed)
    finally:
        repo.close()

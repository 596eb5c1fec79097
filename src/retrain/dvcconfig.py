"""DVC's config files (.dvc/config, .dvc/config.local), read and written through DVC's own config API."""

from __future__ import annotations

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


def set_remote_url(root: Path, name: str, url: str, config_file: str) -> bool:
    """Point remote `name` at `url` in the repository's own config (`config_file`, committed), through DVC's config
    API; False when it already did."""
    repo = _open_config_repo(root)
    try:
        remotes = repo.config.read("repo").get("remote", {})
        if name not in remotes:
            known = ", ".join(remotes) or "none"
            raise BadInputError(f"no remote `{name}` in {config_file} (known: {known}); pass --name.")
        if remotes[name].get("url") == url:
            return False
        with repo.config.edit("repo") as conf:
            conf["remote"][name]["url"] = url
        return True
    finally:
        repo.close()


def local_remote_url(root: Path, name: str) -> str | None:
    """The url this clone's .dvc/config.local gives remote `name`, which overrides the committed one."""
    repo = _open_config_repo(root)
    try:
        url: str | None = repo.config.read("local").get("remote", {}).get(name, {}).get("url")
        return url
    finally:
        repo.close()

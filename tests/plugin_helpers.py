"""Install a throwaway rostersync plugin for real: a module and a ``.dist-info`` holding its entry point,
in a folder that goes on ``PYTHONPATH`` of the ``rostersync`` subprocess (importlib.metadata finds it
like any installed distribution)."""

from __future__ import annotations

from pathlib import Path


def install_plugin(site: Path, module: str, source: str, distribution: str, entry: str,
                   version: str = "0.1") -> Path:
    site.mkdir(exist_ok=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[rostersync]\n{entry} = {module}\n")
    return site

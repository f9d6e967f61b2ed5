"""Build hook: the wheel carries the repository's ``boundaries/`` (Bury's shipped geography) inside the
package as ``geo_csp/boundary_files``, so an installed geo-csp works on Bury with no checkout.
Everything else about the build is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BOUNDARY_FILES = ("*.geojson", "PROVENANCE.md")


class BuildPyWithBoundaries(build_py):
    """``build_py`` that also copies ``boundaries/`` into the built package."""

    def run(self) -> None:
        """Build the package as usual, then copy the boundary files beside its modules."""
        super().run()
        target = Path(self.build_lib) / "geo_csp" / "boundary_files"
        self.mkpath(str(target))
        for pattern in BOUNDARY_FILES:
            for src in sorted(Path("boundaries").glob(pattern)):
                self.copy_file(str(src), str(target / src.name))


setup(cmdclass={"build_py": BuildPyWithBoundaries})

"""Galaxy's own importer (galaxy-importer, pinned in requirements.txt) accepts the built tarball with no
error and no warning: ansible-doc on every plugin, ansible-lint, the metadata Galaxy requires.

It runs offline with its defaults (ansible-lint offline, no ansible-test container)."""

import io
import json
import sys
import tarfile

from build_support import run


def import_collection(tarball, cwd):
    result = run([sys.executable, "-m", "galaxy_importer.main", str(tarball)], check_rc=False, cwd=cwd)
    output = result.stdout + result.stderr
    problems = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    return result.returncode, output, problems


def test_galaxy_importer_accepts_the_tarball_without_a_warning(tarball, tmp_path):
    returncode, output, problems = import_collection(tarball, tmp_path)
    assert returncode == 0 and problems == [], output
    assert "Importer processing completed successfully" in output, output


def without_repository(tarball, destination):
    """The same tarball, its MANIFEST.json without ``repository`` (as a galaxy.yml without it builds)."""
    with tarfile.open(tarball) as source, tarfile.open(destination, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name == "MANIFEST.json":
                manifest = json.loads(data)
                manifest["collection_info"]["repository"] = None
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)


def test_galaxy_importer_refuses_a_collection_without_a_repository(tarball, tmp_path):
    """The check above can fail: the importer's verdict on what galaxy.yml lacked before 1.0.0."""
    broken = tmp_path / tarball.name
    without_repository(tarball, broken)
    returncode, output, problems = import_collection(broken, tmp_path)
    assert returncode != 0 or problems, output
    assert "Invalid collection metadata. 'repository' is required" in output, output

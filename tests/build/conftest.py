"""The collection tarball, built once for the build tests (as ``ansible-galaxy collection build`` makes it)."""

import pytest

from build_support import REPO, run


@pytest.fixture(scope="session")
def tarball(tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("build")
    run(["ansible-galaxy", "collection", "build", "--output-path", str(build_dir), str(REPO)])
    tarballs = list(build_dir.glob("websocket-nginx-*.tar.gz"))
    assert len(tarballs) == 1
    return tarballs[0]

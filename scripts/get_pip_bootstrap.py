"""pip bootstrap for the virtual environments of ``ansible-test sanity`` (see scripts/ansible-test.sh).

ansible-test makes each sanity test's virtual environment without pip and runs a get-pip script
from its cache (``~/.ansible/test/cache/get_pip_<version>.py``), which it downloads from a host
outside the package index when missing. Saved there, this file does the same job with what every
Python ships: the bundled pip wheel (ensurepip), which then installs the pip version ansible-test
asked for (for example ``pip==25.2``) from the package index.
"""

import ensurepip
import subprocess
import sys


def main():
    ensurepip.bootstrap(upgrade=True)
    # get-pip options that pip install does not take; the packages are what ansible-test asked for.
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    return subprocess.call([sys.executable, '-m', 'pip', 'install', '--upgrade'] + args)


if __name__ == '__main__':
    sys.exit(main())

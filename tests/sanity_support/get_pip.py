"""Stands in for ansible-test's pip bootstrap script.

ansible-test sanity runs most tests in virtual environments of its own, created without pip, and
bootstraps pip into each with ``get-pip-<version>.py`` fetched from ci-files.testing.ansible.com;
that host is not reachable from here, and ansible-test says the script may be saved by hand to
``~/.ansible/test/cache/get_pip_<version>.py``. This is what `make sanity` saves there: like
get-pip.py, it runs pip from pip's own wheel (downloaded from PyPI with pip, path filled in for
@WHEEL@) to install the packages it is given. It drops get-pip.py's own --no-setuptools and
--no-wheel options, which pip install does not know.
"""
import sys

sys.path.insert(0, "@WHEEL@")

from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", *args]))

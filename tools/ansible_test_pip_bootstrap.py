"""Lets `ansible-test sanity` bootstrap pip without downloading get-pip.py.

ansible-test creates an empty virtual environment per sanity test and puts
pip in it by running a get-pip.py script that it downloads from a CI file
host and caches as ~/.ansible/test/cache/get_pip_<version>.py. That host is
not reachable here, so this file takes its place:

  install   (run by `make`) copies this file to that cache path for the pip
            version the installed ansible-test asks for.
  otherwise (run by ansible-test as get-pip.py) puts pip in the running
            interpreter with the standard library's ensurepip, then installs
            the requested packages from the package index as usual.
"""

import os
import shutil
import subprocess
import sys
import types

# get-pip.py options that plain `pip install` does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def requested_pip_version():
    from ansible_test._internal.python_requirements import get_venv_packages

    version = "%d.%d" % sys.version_info[:2]
    return get_venv_packages(types.SimpleNamespace(version=version))["pip"]


def install():
    version = requested_pip_version()
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    target = os.path.join(cache, "get_pip_%s.py" % version.replace(".", "_"))
    shutil.copyfile(os.path.abspath(__file__), target)
    print("ansible-test will bootstrap pip %s offline with %s" % (version, target))


def bootstrap(pip_arguments):
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"],
                          stdout=subprocess.DEVNULL)
    arguments = [arg for arg in pip_arguments if arg not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + arguments)


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        install()
    else:
        bootstrap(sys.argv[1:])

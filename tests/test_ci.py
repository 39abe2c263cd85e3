"""CI runs what README tells a user to run: .ci/run's test command is README's, and the
plugins that command needs are in requirements.txt."""

import glob
import os
import re
import tomllib

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(name):
    with open(os.path.join(REPO_DIR, name)) as f:
        return f.read()


def readme_test_command():
    """The indented command under README's "Run the tests:"."""
    match = re.search(r'^Run the tests:\n\n {4}(\S.*)$', _read('README.md'), re.M)
    assert match, 'README.md has no "Run the tests:" paragraph with an indented command'
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command():
    command = readme_test_command()
    assert command.startswith('python -m pytest')
    lines = [ln.strip() for ln in _read('.ci/run').splitlines()
             if ln.strip() and not ln.lstrip().startswith('#')]
    assert lines[-1] == command
    assert 'python -m pip install --quiet --disable-pip-version-check -r requirements.txt' \
        in lines


def test_requirements_hold_the_plugins_of_the_test_command():
    requirements = [re.split(r'[<>=;\s]', ln.strip())[0].lower()
                    for ln in _read('requirements.txt').splitlines()
                    if ln.strip() and not ln.startswith(('#', '-'))]
    assert 'pytest' in requirements
    if re.search(r'\s-n\s', ' {} '.format(readme_test_command())):
        assert 'pytest-xdist' in requirements     # -n is pytest-xdist's option


def test_every_module_of_the_suite_is_installed():
    """`pip install -e .` (requirements.txt) makes the suite importable from anywhere
    (benchmarks/, a notebook elsewhere): every top-level module must be listed."""
    with open(os.path.join(REPO_DIR, 'pyproject.toml'), 'rb') as f:
        listed = set(tomllib.load(f)['tool']['setuptools']['py-modules'])
    here = {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPO_DIR, '*.py'))}
    assert 'train' in here and listed == here - {'conftest'}

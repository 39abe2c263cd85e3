"""pytest set-up shared by every test: quiet TensorFlow, a fresh graph per test."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('MPLBACKEND', 'Agg')

import pytest  # noqa: E402


def _runs_tests(config):
    """False in pytest-xdist's controller (`-n 2`), which only hands tests to its worker
    processes; True in the workers and in a plain pytest run."""
    return hasattr(config, 'workerinput') or not getattr(config.option, 'numprocesses', None)


def pytest_configure(config):
    # TensorFlow's start-up (~4 s) only where tests run: the controller's would delay the
    # workers' start.
    if _runs_tests(config):
        import tensorflow.compat.v1 as tf
        tf.disable_v2_behavior()


@pytest.fixture(autouse=True)
def _fresh_graph():
    """Each test starts and ends with an empty default graph."""
    import tensorflow.compat.v1 as tf
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()

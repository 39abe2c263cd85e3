"""pytest set-up shared by every test: quiet TensorFlow, a fresh graph per test."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('MPLBACKEND', 'Agg')

import pytest  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()


@pytest.fixture(autouse=True)
def _fresh_graph():
    """Each test starts and ends with an empty default graph."""
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()

"""analysis/figsave.py: figures written by a worker process are the files written at once."""

import matplotlib
import numpy as np
import pytest

from analysis import common, figsave

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def example_figure(seed):
    """A figure with the parts the analyses use: line panels, a polar panel, a legend."""
    rng = np.random.RandomState(seed)
    fig = plt.figure(figsize=(5, 5))
    for k in range(3):
        ax = fig.add_subplot(2, 2, k + 1)
        ax.plot(rng.rand(20), label='unit {}'.format(k))
        ax.legend()
    axp = fig.add_subplot(2, 2, 4, projection='polar')
    axp.plot(np.linspace(0, 2 * np.pi, 9), rng.rand(9))
    fig.suptitle('seed {}'.format(seed))
    return fig


def test_background_files_equal_the_files_written_at_once(tmp_path):
    direct = [common.save_figure(example_figure(s), str(tmp_path / 'now_{}'.format(s)))
              for s in range(3)]
    with figsave.in_background() as saver:
        queued = [common.save_figure(example_figure(s), str(tmp_path / 'bg_{}'.format(s)))
                  for s in range(3)]
        assert plt.get_fignums() == []           # closed in this process once queued
    assert saver.written == 3
    for now, bg in zip(direct, queued):
        assert [p.rsplit('.', 1)[1] for p in bg] == ['png', 'pdf']
        # PNG rendering is deterministic (a PDF holds its creation date)
        assert open(now[0], 'rb').read() == open(bg[0], 'rb').read()
        assert (tmp_path / bg[1].rsplit('/', 1)[1]).stat().st_size > 0
    assert figsave._saver is None                 # figures are written at once again


def test_a_figure_the_worker_cannot_write_is_named(tmp_path):
    bad = str(tmp_path / 'no_such_folder' / 'fig')
    with pytest.raises(RuntimeError, match='no_such_folder'):
        with figsave.in_background():
            common.save_figure(example_figure(0), bad)
    assert figsave._saver is None


def test_tight_crops_and_not_tight_keeps_the_page(tmp_path):
    """tight=False writes the whole 5 × 5 in page (750 × 750 px at dpi 150), in the worker
    too; the default crops it to the drawn parts."""
    import matplotlib.image as mpimg
    with figsave.in_background():
        page = common.save_figure(example_figure(0), str(tmp_path / 'page'), tight=False)
    cropped = common.save_figure(example_figure(0), str(tmp_path / 'cropped'))
    assert mpimg.imread(page[0]).shape[:2] == (750, 750)
    assert mpimg.imread(cropped[0]).shape[:2] != (750, 750)


def test_png_compression_changes_bytes_not_pixels(tmp_path):
    """write_figure's faster PNG compression: the same pixels as matplotlib's default."""
    import matplotlib.image as mpimg
    fast = figsave.write_figure(example_figure(1), str(tmp_path / 'fast'), ('png',),
                                tight=False)[0]
    fig = example_figure(1)
    fig.savefig(str(tmp_path / 'default.png'), dpi=150)
    plt.close(fig)
    np.testing.assert_array_equal(mpimg.imread(fast), mpimg.imread(str(tmp_path / 'default.png')))


def _never_drawn():
    raise AssertionError('save_drawn must not draw inside discarded()')


def test_discarded_writes_nothing_and_restores(tmp_path):
    with figsave.discarded():
        paths = common.save_figure(example_figure(0), str(tmp_path / 'gone'))
        drawn = common.save_drawn(_never_drawn, {}, str(tmp_path / 'never'))
        assert plt.get_fignums() == []            # the figure is closed all the same
    assert paths == [str(tmp_path / 'gone.png'), str(tmp_path / 'gone.pdf')]
    assert drawn == [str(tmp_path / 'never.png'), str(tmp_path / 'never.pdf')]
    assert list(tmp_path.iterdir()) == []
    common.save_figure(example_figure(0), str(tmp_path / 'kept'), formats=('png',))
    assert [p.name for p in tmp_path.iterdir()] == ['kept.png']

"""analysis.behaviour: ODRD distractor analysis and saccade-error distributions."""

import os

import numpy as np
import pandas as pd
import pytest

import task
import tools
from analysis import activity, behaviour
from analysis.activity import CheckpointRunner
from network import Model, get_perf


def _load(model_dir, seed=None):
    hp, log = tools.load_hp(model_dir), tools.load_log(model_dir)
    if seed is not None:
        hp['rng'] = np.random.RandomState(seed)
    return hp, log


def test_distractor_table_stages_and_figures(model_copy, figure_root):
    hp, log = _load(model_copy)
    res = behaviour.odrd_distractor_analysis(hp, log, model_copy, [0, 640, 1280],
                                             batch_size=8, verbose=False)
    perf = res['perf']
    assert perf.shape == (3, 5)
    assert perf.index.tolist() == [0, 640, 1280]
    assert perf.columns.tolist() == [0, 1, 2, 3, 4]
    assert np.all((perf.values >= 0) & (perf.values <= 1))
    # the fixture's performance ramp puts one checkpoint in each stage
    assert res['stage'].tolist() == ['early', 'mid', 'mature']
    assert res['stage_mean'].index.tolist() == ['early', 'mid', 'mature']
    np.testing.assert_allclose(res['stage_mean'].values, perf.values)
    assert res['stage_sem'].isna().all().all()          # one checkpoint per stage
    np.testing.assert_allclose(res['distance_deg'], [0, 45, 90, 135, 180])
    assert res['pair_perf'].shape == (3, 8, 8)
    # trials per distance: 8 pairs at 0 and 180 deg, 16 otherwise, × 8 trials
    assert [res['errors']['mid'][d].size for d in range(5)] == [64, 128, 128, 128, 64]
    assert all(np.all((e >= 0) & (e <= 180)) for e in res['errors']['mature'].values())
    names = sorted(os.path.basename(f) for f in res['figures'])
    assert len(names) == 12 and 'odrd_distractor_analysis_by_growth.png' in names
    assert 'saccade_distribut_analysis_by_growth_dis_4.pdf' in names
    assert all(os.path.isfile(f) and os.sep + 'distractor' + os.sep in f
               for f in res['figures'])
    saved = pd.read_csv(res['csv'][0], index_col='trial')
    assert saved['stage'].tolist() == ['early', 'mid', 'mature']
    np.testing.assert_allclose(saved[['0', '1', '2', '3', '4']].values, perf.values)


def test_distractor_means_match_a_plain_loop(model_copy, figure_root):
    """One forward pass of the 64 concatenated batches == 64 separate passes (recurrent
    noise off so that both see the same input; input noise drawn in the same order), for
    each of two checkpoints: trials drawn one checkpoint ahead in a background thread are
    the serial loop's, and hp['rng'] ends where the serial loop leaves it."""
    hp, log = _load(model_copy, seed=7)
    # the analysis itself (block.fn), drawing from the hp['rng'] given to it (called as a
    # block it draws from a generator of its own: tests/test_plan.py)
    analysis = behaviour.odrd_distractor_analysis.block.fn
    res = analysis(hp, log, model_copy, [128, 1280], batch_size=4, chunk_size=96,
                   sigma_rec=0, plot=False, verbose=False)
    after = hp['rng'].rand()
    hp['rng'] = np.random.RandomState(7)
    n = hp['n_eachring']
    with CheckpointRunner(model_copy, hp, sigma_rec=0) as runner:
        for ckpt in (128, 1280):
            runner.restore(ckpt)
            by_dist = {d: [] for d in range(n // 2 + 1)}
            for a in range(n):
                for b in range(n):
                    trial = task.generate_trials('odrd', hp, 'test-a-b', a=a, b=b,
                                                 batch_size=4)
                    (y_hat,) = runner.run(trial, ['y_hat'])
                    by_dist[min(abs(a - b), n - abs(a - b))].append(
                        get_perf(y_hat, trial.y_loc).mean())
            expected = [np.mean(by_dist[d]) for d in range(n // 2 + 1)]
            np.testing.assert_allclose(res['perf'].loc[ckpt].values, expected, atol=1e-12)
    assert hp['rng'].rand() == after


def test_distractor_analysis_takes_a_stage_dict(model_copy, figure_root):
    hp, log = _load(model_copy)
    stages = {'odrd': {'early': [128], 'mid': [], 'mature': [1152, 1280]}}
    res = behaviour.odrd_distractor_analysis(hp, log, model_copy, stages, batch_size=2,
                                             plot=False, verbose=False)
    assert res['stage'].to_dict() == {128: 'early', 1152: 'mature', 1280: 'mature'}
    assert res['stage_mean'].index.tolist() == ['early', 'mature']
    assert res['stage_sem'].loc['mature'].notna().all()


def test_saccade_distribution_matches_a_plain_loop(model_copy, figure_root):
    """Errors per stage and the per-checkpoint table against a loop: the same 'test'
    batches (hp['rng'] re-seeded, recurrent noise off), one batch at a time, the saccade
    angle as the population vector of the ring outputs written out here."""
    hp, log = _load(model_copy, seed=3)
    # the analysis itself (block.fn), drawing from the hp['rng'] given to it
    analysis = behaviour.saccade_distribut_analysis.block.fn
    res = analysis(hp, log, 'overlap', model_copy, [0, 1280], n_batches=2, sigma_rec=0,
                   verbose=False)
    hp['rng'] = np.random.RandomState(3)
    theta = 2 * np.pi * np.arange(hp['n_eachring']) / hp['n_eachring']
    expected = {}
    with CheckpointRunner(model_copy, hp, sigma_rec=0) as runner:
        for ckpt in (0, 1280):
            runner.restore(ckpt)
            err = []
            for _ in range(2):
                trial = task.generate_trials('overlap', hp, 'test')
                (y_hat,) = runner.run(trial, ['y_hat'])
                ring = y_hat[-1, :, 1:]
                angle = np.arctan2(ring @ np.sin(theta), ring @ np.cos(theta)) % (2 * np.pi)
                d = np.abs(angle - trial.y_loc[-1])
                err.append(np.degrees(np.minimum(d, 2 * np.pi - d)))
            expected[ckpt] = np.concatenate(err)
    np.testing.assert_allclose(res['errors']['early'], expected[0], atol=1e-3)
    np.testing.assert_allclose(res['errors']['mature'], expected[1280], atol=1e-3)
    assert res['errors']['mid'].size == 0
    table = res['per_checkpoint']
    assert table.index.tolist() == [0, 1280]
    assert table['stage'].tolist() == ['early', 'mature']
    for ckpt in (0, 1280):
        assert table.loc[ckpt, 'median_error_deg'] == pytest.approx(
            np.median(expected[ckpt]), abs=1e-3)
        assert table.loc[ckpt, 'frac_within_36deg'] == np.mean(expected[ckpt] < 36)
    assert any(f.endswith(os.path.join('overlap', 'saccade_distribut_analysis_by_growth.png'))
               for f in res['figures'])
    saved = pd.read_csv(res['csv'], index_col='trial')
    assert saved['stage'].tolist() == ['early', 'mature']
    with pytest.raises(ValueError, match='not trained on rule'):
        behaviour.saccade_distribut_analysis(hp, log, 'match_or_non', model_copy, [0])


def test_saccade_error_degrees():
    y_hat = np.full((3, 9), 0.05)
    y_hat[:, 1 + 2] = 0.9             # ring output peaks at 90 deg
    y_hat[0, 0] = 0.9                 # trial 0 keeps fixating
    err, fix = behaviour.saccade_error_deg(y_hat, np.array([np.pi / 2, 0., 3 * np.pi / 2]))
    np.testing.assert_allclose(err, [0, 90, 180], atol=1e-9)
    assert fix.tolist() == [True, False, False]
    assert behaviour.circular_steps(np.array([0, 1, 7]), np.array([7, 5, 0]), 8).tolist() \
        == [1, 4, 1]


def test_noise_kept_across_checkpoints_gives_the_same_numbers(model_copy, figure_root,
                                                              monkeypatch):
    """Each chunk's recurrent noise is drawn once and fed to the other checkpoints: the
    same performance as drawing it for every checkpoint (recurrent noise on)."""
    draws = []
    original = Model.draw_noise

    def counting_draw(self, x, seed):
        draws.append(tuple(seed))
        return original(self, x, seed)
    monkeypatch.setattr(Model, 'draw_noise', counting_draw)

    def run(cache_bytes):
        monkeypatch.setattr(activity, 'NOISE_CACHE_BYTES', cache_bytes)
        del draws[:]
        hp, log = _load(model_copy, seed=5)
        res = behaviour.odrd_distractor_analysis(hp, log, model_copy, [128, 640, 1280],
                                                 batch_size=3, chunk_size=80, plot=False,
                                                 verbose=False)
        return res['pair_perf'], np.concatenate([res['errors'][s][d]
                                                 for s in res['errors']
                                                 for d in res['errors'][s]])
    kept = run(1 << 40)
    assert len(draws) == 3                      # 3 chunks, drawn for the first checkpoint
    drawn = run(0)
    assert len(draws) == 9                      # nothing kept: drawn for each checkpoint
    np.testing.assert_array_equal(kept[0], drawn[0])
    np.testing.assert_array_equal(kept[1], drawn[1])

"""Analysis plans (analysis/plan.py) and blocks (analysis/blocks.py): a block's numbers
depend on its own line only; the plan computes what its lines read, once.

The small model (conftest.small_model_dir): n_rnn 16, dt 50 ms, checkpoints 0 … 160 every
32 trials, performance 0.05, 0.4, 0.9, 1.0, 1.0, 1.0 for every rule.
"""

import numpy as np
import pytest

import tools
from analysis import activity, blocks, common
from analysis.behaviour import odrd_distractor_analysis, saccade_distribut_analysis
from analysis.decoding import Decoder_analysis
from analysis.pca import neuron_PCA
from analysis.plan import AnalysisPlan
from analysis.psth import gen_PSTH_log, plot_epoch_mean_growth, plot_PSTH, sample_neuron_by_trial
from analysis.seldir import seldir_analysis
from analysis.tuning import tunning_analysis

WM = {'odrd': {'early': [0], 'mid': [32], 'mature': [160]}}
ANTI = {'overlap': {'early': [0], 'mid': [32], 'mature': [160]}}


def _model(small_model_dir):
    return tools.load_hp(small_model_dir), tools.load_log(small_model_dir)


def _distractor(hp, log, model_dir):
    return odrd_distractor_analysis(hp, log, model_dir, WM, batch_size=4, plot=False,
                                    verbose=False)


def _saccades(hp, log, model_dir):
    return saccade_distribut_analysis(hp, log, 'overlap', model_dir, ANTI, n_batches=1,
                                      plot=False, verbose=False)


def _flat(errors):
    """Every trial's saccade error (deg), stage by stage (and distance by distance)."""
    out = []
    for stage in sorted(errors):
        v = errors[stage]
        out += [np.ravel(v[k]) for k in sorted(v)] if isinstance(v, dict) else [np.ravel(v)]
    return np.concatenate(out)


def _same_errors(a, b):
    assert a['errors'].keys() == b['errors'].keys()
    np.testing.assert_array_equal(_flat(a['errors']), _flat(b['errors']))


def test_a_block_draws_the_same_trials_alone_after_other_blocks_and_in_either_process(
        small_model_dir, figure_root):
    """The original drew every block's trials from one hp['rng'] in turn: the distractor
    analysis's trials changed with the saccade lines before it. Each block now draws from
    a generator of its own (blocks.block_rng)."""
    hp, log = _model(small_model_dir)
    state = hp['rng'].get_state()
    alone = _distractor(hp, log, small_model_dir)
    assert np.array_equal(state[1], hp['rng'].get_state()[1])   # hp['rng'] is not used
    with AnalysisPlan(serial=False, verbose=False) as parallel:
        saccades = _saccades(hp, log, small_model_dir)
        after_saccades = _distractor(hp, log, small_model_dir)   # after another block...
        plot_PSTH(hp, log, small_model_dir, 'odrd', 'stim1', WM)   # keeps this process busy
    _same_errors(alone, after_saccades.value)    # ... and in the other process
    assert parallel.runner.done == 4             # + the activity pass
    # the noise really is drawn: another block's generator gives other errors
    other = blocks.block_rng(hp, blocks.spec_of(odrd_distractor_analysis),
                             blocks.spec_of(odrd_distractor_analysis).bind(
                                 (hp, log, small_model_dir, WM), {'batch_size': 5}))
    assert other.randn() != np.random.RandomState(
        blocks.block_seed(hp, 'odrd_distractor_analysis', {'trial_list': WM,
                                                           'batch_size': 4})).randn()
    # the saccade block drew its trials in the other process as it does alone here
    _same_errors(saccades.value, _saccades(hp, log, small_model_dir))


def test_a_block_seed_depends_on_the_model_seed_and_the_block_arguments_only():
    seed = blocks.block_seed
    hp = {'seed': 3}
    base = seed(hp, 'f', {'trial_list': [0, 1280, 2560], 'rule': 'odr'})
    assert base.dtype == np.uint32 and base.shape == (5,) and base[0] == 3
    # a range and the list of its values are the same trial list; where the model lives
    # and how much is printed change nothing
    assert np.array_equal(base, seed(hp, 'f', {'trial_list': range(0, 2561, 1280),
                                               'rule': 'odr', 'model_dir': 'elsewhere',
                                               'verbose': False, 'log': {}}))
    assert not np.array_equal(base, seed(hp, 'f', {'trial_list': [0, 1280], 'rule': 'odr'}))
    assert not np.array_equal(base, seed(hp, 'f', {'trial_list': [0, 1280, 2560],
                                                   'rule': 'odrd'}))
    assert not np.array_equal(base, seed(hp, 'g', {'trial_list': [0, 1280, 2560],
                                                   'rule': 'odr'}))
    assert not np.array_equal(base, seed({'seed': 4}, 'f', {'trial_list': [0, 1280, 2560],
                                                            'rule': 'odr'}))


def _recorded_needs(hp, log, model_dir, lines):
    """Needs of a plan holding the given lines (recorded, not run)."""
    plan = AnalysisPlan(serial=True, verbose=False)
    for fn, args, kwargs in lines:
        plan.record(fn, args, kwargs)
    return plan.needs().by_model.get(next(iter(plan.needs().paths), None), {})


def test_the_needs_are_those_of_the_lines_listed(small_model_dir):
    hp, log = _model(small_model_dir)
    m = small_model_dir
    psth_line = (plot_PSTH, (hp, log, m, 'odrd', 'delay1', [0, 32, 999]),
                 {'plot_oppo_dir': True})
    sample_line = (sample_neuron_by_trial, (hp, log, m, 'odr', 'stim1', [160], 'mix_neurons'),
                   {})
    decoder_line = (Decoder_analysis, (hp, m), {'trial_num': 64, 'rule': 'odr'})
    needs = _recorded_needs(hp, log, m, [psth_line, sample_line, decoder_line])
    types = tuple(common.N_TYPES)
    # 999 is not a checkpoint of the log: the block says so when it runs
    assert needs['odrd'] == {
        'neuron_info': {(0, 'delay1'), (32, 'delay1')},
        'psth': {(t, 'delay1', types, True, oppo) for t in (0, 32) for oppo in (False, True)},
        'means': set(), 'H': set()}
    assert needs['odr'] == {'neuron_info': {(160, 'stim1')}, 'psth': set(), 'means': {160},
                            'H': {64}}
    # a line removed takes its needs with it; a rule the model lacks adds nothing
    assert 'odr' not in _recorded_needs(hp, log, m, [psth_line])
    assert _recorded_needs(hp, log, m, [
        (plot_PSTH, (hp, log, m, 'dms', 'stim1', [0]), {})]) == {}
    # a figure given its PSTH log reads nothing more
    assert _recorded_needs(hp, log, m, [
        (plot_epoch_mean_growth, (hp, log, [0], m, 'odr', 'stim1', 'stim1'),
         {'PSTH_log': {0: np.zeros((1, 5))}})]) == {}


def test_the_plan_restores_each_checkpoint_once_for_every_line(small_model_dir, tmp_path,
                                                               figure_root, monkeypatch):
    """Every line's H, neuron_info, PSTH rows and location means come from the plan's one
    pass: a need left out would restore checkpoints again inside its block."""
    import shutil
    model_dir = str(tmp_path / 'small')
    shutil.copytree(small_model_dir, model_dir)
    hp, log = _model(model_dir)
    restored = []
    original = activity.CheckpointRunner.restore

    def restore(self, trial_num):
        restored.append(int(trial_num))
        return original(self, trial_num)

    monkeypatch.setattr(activity.CheckpointRunner, 'restore', restore)
    saved = []
    monkeypatch.setattr(common, 'save_figure', lambda fig, path, *a, **k: saved.append(path)
                        or common.pyplot().close(fig) or [path + '.png'])
    stage_dict = {'odr': {'early': [0], 'mid': [32], 'mature': [64, 96]},
                  'odrd': {'early': [0], 'mid': [32], 'mature': [128]}}
    with AnalysisPlan(serial=True, verbose=False) as plan:
        PSTH_log = gen_PSTH_log(hp, stage_dict, model_dir, 'odr', 'stim1')
        plot_epoch_mean_growth(hp, log, stage_dict, model_dir, 'odr', 'stim1', 'stim1',
                               PSTH_log=PSTH_log)
        plot_PSTH(hp, log, model_dir, 'odrd', 'stim1', stage_dict, plot_oppo_dir=True)
        tunning_analysis(hp, log, model_dir, 'odr', 'delay1', stage_dict)
        seldir_analysis(model_dir, 'odr', 'stim1', 'odrd', 'stim1', stage_dict)
        sample_neuron_by_trial(hp, log, model_dir, 'odr', 'stim1', {'odr': {'mature': [96]}},
                               'mix_neurons', max_neurons=1)
        neuron_PCA(hp, log, model_dir, stage_dict, 'odrd')
        Decoder_analysis(hp, model_dir, trial_num=64, rule='odr', window_size=10, test_num=2,
                         plot=False, verbose=False)
    assert plan.runner.skipped == [] and plan.runner.done == 9
    assert sorted(restored) == [0, 32, 64, 96, 128]
    # the Deferred stood for the PSTH log: the growth figure used its values
    growth = plan.results[1]['epoch_mean']
    assert growth == {t: float(plan.results[0][t][:, slice(*common.epoch_bounds(
        activity.rule_task_info(hp, model_dir, 'odr')['epoch_info'], 'stim1', hp['dt'],
        'odr'))].mean()) for t in (0, 32, 64, 96)}


def test_a_result_is_there_once_the_plan_has_run(small_model_dir, figure_root):
    hp, log = _model(small_model_dir)
    with AnalysisPlan(serial=True, verbose=False) as plan:
        result = gen_PSTH_log(hp, [0], small_model_dir, 'odr', 'stim1')
        with pytest.raises(RuntimeError, match='when the plan'):
            result.value
    assert set(result.value) == {0} and plan.finished

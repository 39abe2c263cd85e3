"""The original suite's call forms: a user's Main_analysis lines run here after changing only
their import lines.

ORIGINAL lists, for every public analysis function, the leading parameters of the
original (analysis/PSTH_*.py) in its order, with the original's defaults; our function
must start with exactly those (new parameters come after, as keywords). The test then
calls each function positionally, as the original's scripts do, on the tiny model.
"""

import inspect
import shutil

import pytest

import tools
from analysis import (activity, basic, behaviour, common, decoding, dpca_analysis, monkey,
                      neuron_info, pca, psth, seldir, tuning)

NT = ('exh_neurons', 'mix_neurons')
_ = inspect.Parameter.empty   # no default
# {function: [(parameter, default or _), ...]} as in the original suite.
ORIGINAL = {
    basic.print_basic_info: [
        ('hp', _), ('log', _), ('model_dir', _), ('smooth_growth', True), ('smooth_window', 5),
        ('auto_range_select', False), ('avr_window', 9), ('perf_margin', 0.05),
        ('max_trial_num_limit', 30)],
    activity.gen_task_info: [('hp', _), ('log', _), ('model_dir', _), ('rules', None),
                             ('return_trial_store', False)],
    activity.compute_H: [('hp', _), ('log', _), ('model_dir', _), ('rules', None),
                         ('trial_list', None), ('recompute', False), ('save_H_pickle', True)],
    activity.Get_H: [('hp', _), ('model_dir', _), ('trial_num', _), ('rule', _),
                     ('save_H', False), ('task_mode', 'test')],
    neuron_info.generate_neuron_info: [
        ('hp', _), ('model_dir', _), ('epochs', _), ('trial_list', _), ('rules', _),
        ('norm', True), ('annova_p_value', 0.05), ('paired_ttest_p', 0.05),
        ('abs_active_thresh', 1e-3), ('recompute', False), ('verbose', True)],
    psth.gen_PSTH_log: [('hp', _), ('trial_list', _), ('model_dir', _), ('rule', _),
                        ('seltive_epoch', _), ('n_types', NT), ('norm', True),
                        ('oppo_sel_dir', False)],
    psth.plot_PSTH: [('hp', _), ('log', _), ('model_dir', _), ('rule', _), ('epoch', _),
                     ('trial_list', _), ('n_types', NT), ('plot_oppo_dir', False),
                     ('norm', True), ('PSTH_log', None)],
    psth.plot_epoch_mean_growth: [
        ('hp', _), ('log', _), ('trial_list', _), ('model_dir', _), ('rule', _),
        ('seltive_epoch', _), ('analy_epoch', _), ('n_types', NT), ('norm', True),
        ('PSTH_log', None)],
    psth.neuron_period_activity_analysis: [
        ('hp', _), ('log', _), ('trial_list', _), ('model_dir', _), ('rule', _),
        ('seltive_epoch', _), ('analy_epoch', _), ('n_types', NT), ('norm', True),
        ('PSTH_log', None), ('last_step', True),
        ('bin_wid', None)],   # the original's 0.5 drew one bin: automatic (DIFFERENCES)
    psth.plot_period_ttest_heatmap: [
        ('hp', _), ('log', _), ('trial_list', _), ('model_dir', _), ('rule', _),
        ('seltive_epoch', _), ('analy_epoch', _), ('n_types', NT), ('norm', True),
        ('PSTH_log', None)],
    psth.sample_neuron_by_trial: [('hp', _), ('log', _), ('model_dir', _), ('rule', _),
                                  ('epoch', _), ('trial_list', _),
                                  ('n_type', 'mix_neurons')],   # the original: no default
    tuning.tunning_analysis: [('hp', _), ('log', _), ('model_dir', _), ('rule', _),
                              ('epoch', _), ('trial_list', _), ('n_types', NT),
                              ('gaussion_fit', True), ('height_ttest', True)],
    seldir.seldir_analysis: [('model_dir', _), ('rule1', _), ('epoch1', _), ('rule2', _),
                             ('epoch2', _), ('trial_list', _),
                             ('n_types', NT)],                  # the original: no default
    pca.neuron_PCA: [('hp', _), ('log', _), ('model_dir', _), ('trial_num', _), ('rule', _),
                     ('task_mode', 'test'), ('n_components', 2)],
    behaviour.odrd_distractor_analysis: [('hp', _), ('log', _), ('model_dir', _),
                                         ('trial_list', _)],
    behaviour.saccade_distribut_analysis: [('hp', _), ('log', _), ('rule', _),
                                           ('model_dir', _), ('trial_list', _)],
    decoding.Decoder_analysis: [('hp', _), ('model_dir', _), ('trial_num', _),
                                ('rule', 'odr'), ('task_mode', 'test'), ('window_size', 2),
                                ('stride', 1), ('test_num', 2)],
    decoding.realneuron_Decoder_analysis: [
        ('neuron_file', 'data/adultFiringRate8trials.txt'), ('test_size', 0.25),
        ('test_num', 4), ('time_len', 176), ('dt', 20), ('loc_num', 8), ('trial_per_loc', 8),
        ('window_size', 2), ('stride', 1), ('artifact_trial_num_per_loc', 0)],
    dpca_analysis.neuron_dPCA: [
        ('hp', _), ('log', _), ('model_dir', _), ('trial_num', _), ('rule', _),
        ('task_mode', 'test'), ('appoint_loc_analysis', False), ('appoint_locs', (0, 4)),
        ('invert_tcomp_y', False), ('invert_scomp_y', False), ('invert_stcomp_y', False),
        ('tcomp_ylim', (None, None)), ('scomp_ylim', (None, None)),
        ('stcomp_ylim', (None, None))],
    dpca_analysis.real_neuron_dPCA: [
        ('neuron_file', 'data/adultFiringRate8trials.txt'), ('time_len', 176),
        ('trial_per_loc', 8), ('dt', 20), ('appoint_loc_analysis', False),
        ('appoint_locs', (1, 5)), ('invert_tcomp_y', False), ('invert_scomp_y', False),
        ('invert_stcomp_y', False), ('tcomp_ylim', (None, None)),
        ('scomp_ylim', (None, None)), ('stcomp_ylim', (None, None))],
    monkey.real_neuron_PCA: [('neuron_file', 'data/adultneuron.txt'), ('time_len', 176),
                             ('direc_num', 8), ('n_components', 2)],
}


@pytest.mark.parametrize('fn', list(ORIGINAL), ids=lambda f: f.__name__)
def test_leading_parameters_are_the_originals(fn):
    params = list(inspect.signature(fn).parameters.values())
    original = ORIGINAL[fn]
    assert [(p.name, p.default) for p in params[:len(original)]] == original
    # whatever we added comes after, with a default (callable as a keyword)
    assert all(p.default is not _ for p in params[len(original):]), fn.__name__


@pytest.fixture
def quick_figures(figure_root, monkeypatch):
    """Figures are only written as stub PNG files: the calls are under test here."""
    def save(fig, path, formats=('png', 'pdf'), dpi=150, tight=True):
        import matplotlib.pyplot as plt
        plt.close(fig)
        with open(path + '.png', 'wb') as f:
            f.write(b'figure')
        return [path + '.png']
    monkeypatch.setattr(common, 'save_figure', save)
    return figure_root


def test_model_functions_called_positionally(small_model_dir, tmp_path, quick_figures):
    """Every analysis of a trained model, called with the original's positional form."""
    model_dir = str(tmp_path / 'small')
    shutil.copytree(small_model_dir, model_dir)
    hp, log = tools.load_hp(model_dir), tools.load_log(model_dir)
    trials = [0, 32, 160]            # early (0.05), mid (0.4), mature (1.0)
    stages = basic.print_basic_info(hp, log, model_dir, True, 5, True, 9, 0.05, 30)
    assert set(stages) == set(hp['rule_trains'])
    info = activity.gen_task_info(hp, log, model_dir, ['odr', 'odrd'])
    assert set(info) == {'odr', 'odrd'}
    assert activity.compute_H(hp, log, model_dir, ['odr', 'odrd'], trials, False, True) is None
    H = activity.Get_H(hp, model_dir, 160, 'odr', False, 'test')
    assert H.shape == (70, 128, 16)            # 3500 ms of 50 ms steps
    neuron_info.generate_neuron_info(hp, model_dir, ['stim1'], trials, ['odr', 'odrd'], True,
                                     0.05, 0.05, 1e-3, False, False)
    PSTH_log = psth.gen_PSTH_log(hp, trials, model_dir, 'odr', 'stim1', NT, True, False)
    assert sorted(PSTH_log) == trials
    drawn = {
        'plot_PSTH': psth.plot_PSTH(hp, log, model_dir, 'odr', 'stim1', trials, NT, False,
                                    True, PSTH_log),
        'tunning_analysis': tuning.tunning_analysis(hp, log, model_dir, 'odr', 'stim1',
                                                    trials, NT, True, True),
        'plot_epoch_mean_growth': psth.plot_epoch_mean_growth(
            hp, log, trials, model_dir, 'odr', 'stim1', 'stim1', NT, True, PSTH_log),
        'neuron_period_activity_analysis': psth.neuron_period_activity_analysis(
            hp, log, trials, model_dir, 'odr', 'stim1', 'stim1', NT, True, PSTH_log, True,
            0.5),
        'plot_period_ttest_heatmap': psth.plot_period_ttest_heatmap(
            hp, log, trials, model_dir, 'odr', 'stim1', 'stim1', NT, True, PSTH_log),
        'seldir_analysis': seldir.seldir_analysis(model_dir, 'odr', 'stim1', 'odrd', 'stim1',
                                                  trials, NT),
        'neuron_PCA': pca.neuron_PCA(hp, log, model_dir, 160, 'odr', 'test', 2),
        'Decoder_analysis': decoding.Decoder_analysis(hp, model_dir, 160, 'odr', 'test', 10,
                                                      5, 2),
        'neuron_dPCA': dpca_analysis.neuron_dPCA(
            hp, log, model_dir, 160, 'odr', 'test', True, [0, 4], True, False, False,
            (None, None), (-5, 5), (None, None)),
        'odrd_distractor_analysis': behaviour.odrd_distractor_analysis(hp, log, model_dir,
                                                                       [160]),
        'saccade_distribut_analysis': behaviour.saccade_distribut_analysis(
            hp, log, 'overlap', model_dir, [160]),
    }
    for name, res in drawn.items():
        assert res['figures'], name
    assert drawn['neuron_dPCA']['locs'] == [0, 4]
    assert drawn['Decoder_analysis']['window_ms'] == 500
    units = psth.sample_neuron_by_trial(hp, log, model_dir, 'odr', 'stim1', [160],
                                        'mix_neurons')['units']
    assert list(units) == [160]
    # The original's keyword lines of its Main_analysis.py
    neuron_info.generate_neuron_info(hp, model_dir, epochs=['delay1'], trial_list=trials,
                                     rules=['odr'], recompute=False)
    psth.plot_epoch_mean_growth(hp, log, trials, model_dir, rule='odr', seltive_epoch='stim1',
                                analy_epoch='delay1', PSTH_log=PSTH_log)
    decoding.Decoder_analysis(hp, model_dir, trial_num=log['trials'][-1], window_size=10,
                              stride=10, test_num=2)


def test_monkey_functions_called_positionally(tmp_path, quick_figures):
    """The monkey-recording variants with the original's positional parameters."""
    rec = monkey.make_synthetic_recording(str(tmp_path / 'adultFiringRate8trials.txt'),
                                          n_units=12, n_bins=40, seed=0)
    units = monkey.write_unit_file(str(tmp_path / 'adultneuron.txt'), monkey.location_psth(
        monkey.synthetic_rates(n_units=12, n_bins=40, seed=1)))
    res = decoding.realneuron_Decoder_analysis(rec, .25, 4, 40, 20, 8, 8, 10, 10, 0)
    assert res['accuracy'].shape == (4, 4)
    res = dpca_analysis.real_neuron_dPCA(rec, 40, 8, 20, True, [1, 5], True, False, False,
                                         (None, None), (None, None), (None, None))
    assert res['locs'] == [1, 5] and res['Z']['t'].shape[1:] == (2, 40)
    res = monkey.real_neuron_PCA(units, 40, 8, 2)
    assert res['pcs'].shape == (2, 8, 40)
    with pytest.raises(ValueError, match='artifact_trial_num_per_loc must be 0'):
        decoding.realneuron_Decoder_analysis(rec, .25, 4, 40, 20, 8, 8, 10, 10, 1)

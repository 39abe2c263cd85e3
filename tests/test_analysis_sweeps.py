"""Analysis_with_diff_HyperParameters.py on tiny trained experiments of the sweep table.

Two experiments are trained for real through the sweep API (16 units, checkpoints at 0,
64 and 128 trials); a third one is left untrained. Their logs are then given flat
performance curves (a few hundred trials teach a network nothing), so that each model
has its own stages: indi_odr sits at the early target, indi_odr_odrd at the mature
target for odr and never near any target for odrd, whose stages then come from each
checkpoint's own performance, as in every other command (stages.stages_with_fallback).
"""

import os

import pytest

import tools
import Analysis_with_diff_HyperParameters as awd
import Training_with_diff_HyperParameters as thp

TINY = {'n_rnn': 16, 'batch_size_test': 32, 'batch_size_train': 32}
TRIALS = [0, 64, 128]
# Flat performance curves per experiment and rule (the stage each model should get).
PERF = {'indi_odr': {'odr': 0.35}, 'indi_odr_odrd': {'odr': 0.98, 'odrd': 0.0}}


@pytest.fixture(scope='module')
def sweep_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('sweep'))
    for name, perfs in PERF.items():
        summary = thp.run_experiment(name, root=root, max_trials=TRIALS[-1],
                                     hp_overrides=TINY, display_step=2)
        assert summary['trials'] == TRIALS[-1], summary
        model_dir = summary['model_dir']
        log = tools.load_log(model_dir)
        assert log['trials'] == TRIALS
        for rule, perf in perfs.items():
            log['perf_' + rule] = [perf] * len(TRIALS)
        log['perf_min'] = [min(perfs.values())] * len(TRIALS)
        tools.save_log(log, model_dir)
    return root


def _pngs(folder):
    return sorted(os.path.relpath(os.path.join(d, f), folder)
                  for d, _, files in os.walk(folder) for f in files if f.endswith('.png'))


def test_analyses_each_trained_experiment_with_its_own_stages(sweep_root, figure_root,
                                                              capsys):
    # 'indi_odr*' matches indi_odr, indi_odrd (not trained) and indi_odr_odrd.
    status = awd.main(['--only', 'indi_odr*', '--root', sweep_root])
    out, err = capsys.readouterr()
    assert status == 0
    summaries = awd.analyse_many(['indi_odrd'], root=sweep_root)  # untrained: no work
    assert summaries[0]['status'] == 'not trained'

    # Stage ranges come from each model's own log.
    single = awd.analyse_experiment('indi_odr', root=sweep_root)
    assert single['stages']['odr'] == {'early': TRIALS, 'mid': [], 'mature': []}
    pair = awd.analyse_experiment('indi_odr_odrd', root=sweep_root)
    assert pair['stages']['odr'] == {'early': [], 'mid': [], 'mature': TRIALS}
    # odrd: no window near a target; each checkpoint's own performance (0.0) is early
    assert pair['stages']['odrd'] == {'early': TRIALS, 'mid': [], 'mature': []}
    assert pair['skipped'] == []

    # Figures: growth of performance and a PSTH per analysed epoch of each trained rule.
    odr = _pngs(os.path.join(str(figure_root), 'figure_indi_odr'))
    assert 'growth_of_performance_range.png' in odr
    for epoch in ('stim1', 'delay1'):
        assert 'odr/{0}/exh_neurons_mix_neurons/odr_{0}_auto_choose_PSTH.png'.format(
            epoch) in odr
    pair_figs = _pngs(os.path.join(str(figure_root), 'figure_indi_odr_odrd'))
    assert any(p.startswith('odr/stim1/') and p.endswith('_PSTH.png') for p in pair_figs)
    assert any(p.startswith('odrd/delay2/') and p.endswith('_PSTH.png') for p in pair_figs)
    assert not os.path.isdir(os.path.join(str(figure_root), 'figure_indi_odrd'))
    # Pickles of the stage checkpoints, in the model folders.
    model_dir = os.path.join(sweep_root, 'indi_odr')
    for t in TRIALS:
        assert not os.path.isfile(os.path.join(model_dir, str(t), 'H_odr.pkl'))   # in memory
        assert os.path.isfile(os.path.join(model_dir, str(t), 'neuron_info_odr_delay1.pkl'))

    # What the command line said: the untrained model, the stages filled from the
    # checkpoints' own performance, one summary line.
    assert 'indi_odrd: not trained yet' in out
    assert ("[analysis] odrd: automatic selection has no early/mid/mature checkpoint; using "
            "each checkpoint's own performance instead — early: 3 checkpoint(s)") in err
    last = out.strip().splitlines()[-1]
    assert last.startswith('Analysis_with_diff_HyperParameters: 2 experiment(s) analysed, '
                           '1 not trained yet, 0 failed;')


def test_list_shows_training_state(sweep_root, capsys):
    assert awd.main(['--list', '--root', sweep_root, '--only', 'indi_*']) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert list(lines) == ['indi_odr', 'indi_odrd', 'indi_odr_odrd', 'indi_gap',
                           'indi_zero_gap', 'indi_overlap']
    assert '3 checkpoint(s), last at trial 128' in lines['indi_odr']
    assert 'not trained yet' in lines['indi_gap']


def test_unknown_experiment_is_a_clear_error(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        awd.main(['--only', 'set9_exp1', '--root', str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "'set9_exp1'" in err and 'valid names: indi_odr, indi_odrd' in err
    with pytest.raises(ValueError, match='valid names'):
        awd.analyse_experiment('nope', root=str(tmp_path))


def test_psth_epochs_per_rule():
    odrd = {'fix1': (None, 50), 'stim1': (50, 75), 'delay1': (75, 100),
            'distract1': (100, 125), 'delay2': (125, 150), 'go1': (150, None)}
    assert awd.psth_epochs('odrd', odrd) == ['stim1', 'delay1', 'delay2']
    odr3000 = {'fix1': (None, 50), 'stim1': (50, 75), 'delay1': (75, 225), 'go1': (225, None)}
    assert awd.psth_epochs('odr3000', odr3000) == ['stim1', 'delay1']
    # A rule not in the table: every epoch between fixation and response, in time order.
    other = {'go1': (90, None), 'stim2': (60, 70), 'fix1': (None, 10), 'stim1': (10, 20)}
    assert awd.psth_epochs('new_rule', other) == ['stim1', 'stim2']

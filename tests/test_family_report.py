"""Analysis_with_diff_HyperParameters.py --report: the signatures of every experiment side
by side (analysis/family_report.py).

The models here are planted, not trained: each folder holds the hp of its experiment, a
log with known performance curves and the model's own report (signatures.csv) written
after the log, which --report reads back instead of recomputing it. The computation of a
model's rows through --report is test_report_families.py's.
"""

import math
import os

import pytest

import Analysis_with_diff_HyperParameters as awd
import experiments
import tools
from stages import DataUnavailable
from analysis import family_report, report

NAN = float('nan')
TRIALS = [0, 1000, 2000, 3000]
# set2_exp1: overlap passes 0.95 at 1,000; gap is at 0.95 exactly at 1,000 (not above)
# and passes at 2,000; odr never does.
PERF = {'overlap': [0.1, 0.96, 0.99, 1.0], 'gap': [0.1, 0.95, 0.951, 1.0],
        'odr': [0.1, 0.2, 0.3, 0.4]}


def planted_rows(model):
    return [
        report.row(model, 1, 'order', 'first trials', value=1000, effect=1000,
                   effect_name='trials to the first WM task', verdict=report.HOLDS),
        report.row(model, 2, 'odr delay1, last', 'anova', p=0.2, effect=0.05,
                   effect_name='η²', verdict=report.FAILS),
        report.row(model, 2, 'odrd delay2, last', 'anova', p=0.01, effect=0.5,
                   effect_name='η²', verdict=report.HOLDS),
        # the first test row has no defined effect: the main effect is the next one's
        report.row(model, 3, 'mature − early', 'diff', verdict=report.FAILS),
        report.row(model, 3, 'slope, early', 'slope', effect=9.0, effect_name='slope',
                   verdict=report.DESCRIPTIVE),
        report.row(model, 3, 'slope, mid', 'slope', p=0.01, effect=0.4,
                   effect_name='slope', verdict=report.HOLDS),
        report.row(model, 5, 'odr, mature', 'n/a', verdict=report.NA,
                   note='no mature odr checkpoint'),
    ]


def plant(root, name, perf):
    model_dir = experiments.get(name).model_dir(root)
    tools.mkdir_p(model_dir)
    hp = experiments.build_hp(name)
    tools.save_hp(hp, model_dir)
    log = {'trials': TRIALS, 'times': [0.0] * len(TRIALS)}
    for rule in hp['rule_trains']:
        log['perf_' + rule] = perf.get(rule, [0.5] * len(TRIALS))
    log['perf_min'] = log['perf_avg'] = [min(p) for p in zip(*[log['perf_' + r] for r in
                                                             hp['rule_trains']])]
    tools.save_log(log, model_dir)
    report.write_model_report(planted_rows(experiments.EXPERIMENTS[name].dirname),
                              report.report_dir(model_dir), model_dir)
    return model_dir


@pytest.fixture
def planted_root(tmp_path, figure_root):
    root = str(tmp_path / 'models')
    plant(root, 'set2_exp1', PERF)
    plant(root, 'set2_exp2', {})
    return root


def test_family_report_table(planted_root, figure_root, capsys):
    status = awd.main(['--report', '--root', planted_root, '--only', 'set2_*', 'indi_odr'])
    out = capsys.readouterr().out.strip().splitlines()
    assert status == 0
    md = os.path.join(str(figure_root), 'report_experiments', 'report.md')
    assert out[-1].startswith('Analysis_with_diff_HyperParameters --report: 2 experiment(s) '
                              'reported, 3 not trained, 0 failed — ' + md)
    assert out[-2] == 'Not trained yet, left out of the tables: indi_odr, set2_exp3, set2_exp4'
    lines = {r['experiment']: r for r in family_report.read_csv(
        os.path.join(os.path.dirname(md), 'experiments.csv'))}
    assert list(lines) == ['indi_odr', 'set2_exp1', 'set2_exp2', 'set2_exp3', 'set2_exp4']
    assert {n: r['status'] for n, r in lines.items()} == {
        'indi_odr': 'not trained', 'set2_exp1': 'reported', 'set2_exp2': 'reported',
        'set2_exp3': 'not trained', 'set2_exp4': 'not trained'}
    one = lines['set2_exp1']
    assert (one['family'], one['trials']) == ('set2', '3000')
    # verdicts: every test row (2: one fails), NA when one row is (5), none without rows (4)
    assert [one['sig{}_verdict'.format(n)] for n in report.SIGNATURES] == [
        report.HOLDS, report.FAILS, report.FAILS, report.NA, report.NA, report.NA]
    # main effect: the first test row with a defined effect size
    assert float(one['sig1_effect']) == 1000
    assert (float(one['sig2_effect']), one['sig2_effect_variant']) == (0.05, 'odr delay1, last')
    assert (float(one['sig3_effect']), one['sig3_effect_name']) == (0.4, 'slope')
    assert one['sig5_effect'] == ''
    assert one['sig5_not_available_because'] == 'no mature odr checkpoint'
    assert (one['learned_overlap'], one['learned_gap'], one['learned_odr']) == (
        '1000', '2000', 'not learned within 3000')
    assert lines['indi_odr']['learned_overlap'] == ''

    text = open(md, encoding='utf-8').read()
    assert ('- Set 2 changes the activation function (paper: softplus): tanh, relu, elu, '
            'power; everything else is the paper run.') in text
    assert '- The indi family changes the tasks trained (paper: all six): odr,' in text
    assert 'Not trained yet' in text and 'set2_exp3, set2_exp4' in text
    row = next(ln for ln in text.splitlines() if ln.startswith('| set2_exp1 |'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert cells[:3] == ['set2_exp1', 'activation tanh', '3,000']
    assert cells[3:6] == ['holds (trials to the first WM task = 1,000)',
                          'does not hold (η² = 0.05)', 'does not hold (slope = 0.4)']
    assert cells[7] == report.NA + ' (no mature odr checkpoint)'      # its row's reason
    assert cells[6] == report.NA                 # no row at all: no reason to give
    learned = next(ln for ln in text.splitlines()[text.splitlines().index(row) + 1:]
                   if ln.startswith('| set2_exp1 |'))
    assert '| 1,000 |' in learned and 'not learned within 3,000' in learned
    assert not any(ln.startswith('| indi_odr |') for ln in text.splitlines())


def test_family_report_recomputes_on_request_and_reports_a_failure(planted_root, figure_root,
                                                                  capsys, monkeypatch):
    # --recompute on a model whose analysis fails (its checkpoints cannot be read): the
    # failure is one row, the exit status is 1
    model_dir = experiments.get('set2_exp2').model_dir(planted_root)
    one = experiments.get('set2_exp1').model_dir(planted_root)

    def unreadable(model_dir, verbose=False, figures=True, serial=False):
        raise DataUnavailable('No checkpoint at trial 0 in {}'.format(model_dir))

    monkeypatch.setattr(report, 'model_rows', unreadable)
    status = awd.main(['--report', '--recompute', '--no-figures', '--root', planted_root,
                       '--only', 'set2_exp1'])
    assert status == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert '0 experiment(s) reported, 0 not trained, 1 failed' in out[-1]
    # a stored report for other checkpoints is not reused
    log = tools.load_log(model_dir)
    log['trials'] = TRIALS[:3]
    for k in list(log):
        if k.startswith('perf_'):
            log[k] = log[k][:3]
    tools.save_log(log, model_dir)
    assert awd._stored_rows(model_dir, log, report.report_dir(model_dir)) is None
    # the failed recomputation left the model's previous report as it was
    assert awd._stored_rows(one, tools.load_log(one), report.report_dir(one)) is not None
    csv_path = os.path.join(str(figure_root), 'report_experiments', 'experiments.csv')
    line, = family_report.read_csv(csv_path)
    assert line['status'] == 'error' and line['note'].startswith('DataUnavailable: No '
                                                                 'checkpoint'), line


def test_no_figures_needs_report(capsys):
    with pytest.raises(SystemExit):
        awd.main(['--no-figures'])
    assert '--no-figures goes with --report' in capsys.readouterr().err


def test_family_of_each_experiment():
    assert [experiments.family(n) for n in ('indi_odr_odrd', 'set1_exp4', 'seed0',
                                            'seed4')] == ['indi', 'set1', 'seed', 'seed']
    with pytest.raises(ValueError, match='valid names'):
        experiments.family('set9_exp1')
    assert not math.isnan(family_report.main_effect(planted_rows('m'), 3)[0])

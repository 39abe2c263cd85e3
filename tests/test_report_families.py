"""The report on one tiny trained model of each family of experiments.py.

One experiment per code path the report meets: a single-task network (the signatures
needing other tasks are "not available"; a two-task network takes the same path), the
match-or-non-match ruleset (other rule inputs), a long-delay ruleset (odr3000 is the ODR
task) and a gated cell (GRU; LeakyGRU runs the same analyses). The plain leaky network of
the paper is test_report.py's end-to-end test.

Each model trains for two steps (16 units, dt 50 ms, checkpoints at 0, 32 and 64 trials)
and its log gets a ramp 0.1 / 0.5 / 1.0 so that every rule has one early, one mid and one
mature checkpoint. The analyses run on small batches (4 test trials per location, one
checkpoint per stage) and figures are not drawn (test_report.py draws them): what is
checked is that every family gets a report with a verdict or a reason on every row.
"""

import os

import pytest

import Analysis_with_diff_HyperParameters as awd
import experiments
import task
import tools
from analysis import family_report, report

TINY = {'n_rnn': 16, 'dt': 50, 'batch_size_train': 32, 'batch_size_test': 32}
RAMP = [0.1, 0.5, 1.0]
# One experiment per code path (single task, other rule inputs, long delay, gated cell).
FAMILIES = ['indi_odr', 'set5_exp1', 'set6_exp1', 'set7_exp2']


@pytest.fixture
def cheap_report(monkeypatch, figure_root):
    """The report's analyses on small batches."""
    monkeypatch.setattr(report, 'BEHAVIOUR_CHECKPOINTS', 1)
    monkeypatch.setattr(report, 'DISTRACTOR_BATCH', 4)
    monkeypatch.setattr(report, 'SACCADE_BATCHES', 1)
    monkeypatch.setattr(task, 'TEST_TRIALS_PER_LOC', 4)
    return figure_root


def train_tiny(name, root):
    """Experiment ``name`` trained for two steps into root, its log given RAMP."""
    summary = experiments.run_experiment(name, root=root, max_trials=64, hp_overrides=TINY,
                                         display_step=1)
    model_dir = summary['model_dir']
    log = tools.load_log(model_dir)
    assert log['trials'] == [0, 32, 64]
    for rule in tools.load_hp(model_dir)['rule_trains']:
        log['perf_' + rule] = RAMP
    log['perf_min'] = log['perf_avg'] = RAMP
    tools.save_log(log, model_dir)
    return model_dir


@pytest.mark.parametrize('name', FAMILIES)
def test_report_on_each_family(name, tmp_path, cheap_report):
    exp = experiments.get(name)
    root = str(tmp_path)
    model_dir = train_tiny(name, root)
    # through the family report, which writes the model's own report first
    assert awd.main(['--report', '--no-figures', '--serial', '--root', root, '--only',
                     name]) == 0
    out_dir = report.report_dir(model_dir)
    md, csv_path = os.path.join(out_dir, 'report.md'), os.path.join(out_dir, 'signatures.csv')
    back = report.read_csv(csv_path)
    assert {r['signature'] for r in back} == set(report.SIGNATURES)
    # a reason on every "not available" row, in the table of report.md as well
    text = open(md, encoding='utf-8').read()
    for r in back:
        if r['verdict'] == report.NA:
            assert r['note'], (r['signature'], r['variant'])
            assert '{} ({})'.format(report.NA, r['note'].replace('|', '\\|')) in text
    by_sig = {}
    for r in back:
        by_sig.setdefault(r['signature'], []).append(r)
    not_trained = {n for n, rs in by_sig.items()
                   if any(r['note'].startswith('model not trained') or
                          r['note'].startswith('needs anti-saccade') for r in rs)}
    rules = set(exp.rules)
    odr_like = rules & set(task.ODR_DELAY_MS)
    # A signature is missing for want of a task exactly when the model lacks that task.
    expected = set()
    if not rules & set(report.ANTI_RULES) or not (odr_like or 'odrd' in rules):
        expected.add(1)
    if not odr_like or 'odrd' not in rules:
        expected.add(2)
    if 'odrd' not in rules:
        expected.add(3)
    if not set(report.SACCADE_RULES) <= rules:
        expected.add(4)
    if not odr_like:
        expected |= {5, 6}
    assert not_trained == expected
    odr = report.odr_rule(tools.load_hp(model_dir))
    assert odr == ('odr3000' if exp.ruleset == 'all_new_odr3000' else 'odr')
    # the ODR signatures ran on the model's own ODR task
    decoding = by_sig[5][0]
    assert decoding['variant'].startswith(odr + ',')
    assert 0 <= decoding['value'] <= 1
    assert by_sig[6][0]['variant'].startswith(odr + ' ')
    delay = [r for r in by_sig[2] if r['variant'].startswith(odr + ' delay1')]
    assert len(delay) == 2 and not any(r['note'].startswith('model not') for r in delay)
    if 1 not in expected:
        assert odr in by_sig[1][0]['statistic'] and 'odrd' in by_sig[1][0]['statistic']
    assert not any(r['figures'] for r in back)
    # --no-figures: no figure file (analyses may have made their folders)
    assert not [f for _, _, files in os.walk(str(cheap_report)) for f in files
                if not f.endswith('.md') and not f.endswith('.csv')]
    # the family report's row: the same verdicts
    line, = family_report.read_csv(os.path.join(family_report.report_dir(),
                                                'experiments.csv'))
    verdicts = report.signature_verdicts(back)
    assert [line['sig{}_verdict'.format(n)] for n in report.SIGNATURES] == [
        verdicts[n] for n in report.SIGNATURES]
    assert line['learned_' + odr] == '64'       # the ramp passes 0.95 at the last checkpoint

"""analysis.report and Main_report.py: verdicts, files, and the report end to end."""

import math
import os
import shutil

import numpy as np
import pytest

import Main_report
import stages
import tools
from analysis import report

NAN = float('nan')


def rows_for(model, verdicts, effects=None):
    """One row per (signature, verdict) pair, effects in the same order."""
    effects = effects or [NAN] * len(verdicts)
    return [report.row(model, n, 'variant {}'.format(i), 'stat', value=0.5, p=0.01,
                       effect=e, effect_name='η²', verdict=v, note='why' if v == report.NA
                       else '', figures=['a/b.png', 'a/b.pdf'])
            for i, ((n, v), e) in enumerate(zip(verdicts, effects))]


def test_row_keeps_only_png_figures():
    r = rows_for('m', [(1, report.HOLDS)])[0]
    assert r['figures'] == ['a/b.png'] and r['name'] == 'learning order'


def test_signature_verdict_needs_every_test_row_and_ignores_descriptive_rows():
    rows = rows_for('m', [(1, report.HOLDS), (3, report.HOLDS), (3, report.DESCRIPTIVE),
                          (4, report.HOLDS), (4, report.FAILS), (5, report.NA),
                          (5, report.HOLDS)])
    v = report.signature_verdicts(rows)
    assert v[1] == report.HOLDS and v[3] == report.HOLDS
    assert v[4] == report.FAILS and v[5] == report.NA
    assert v[2] == report.NA and v[6] == report.NA      # no rows at all


def test_csv_round_trip(tmp_path):
    rows = rows_for('m', [(1, report.HOLDS), (2, report.NA)], effects=[0.25, NAN])
    rows[0]['statistic'] = 'means: early 1.0, mature 2.0; "quoted", | piped'
    rows[1]['p'] = NAN
    path = report.write_csv(rows, str(tmp_path / 'signatures.csv'))
    back = report.read_csv(path)
    assert len(back) == 2
    for a, b in zip(rows, back):
        for k in report.COLUMNS:
            if k in ('value', 'p', 'effect') and math.isnan(a[k]):
                assert math.isnan(b[k])
            else:
                assert a[k] == b[k], k


def test_seed_summary_counts_models_and_effect_sizes():
    rows = (rows_for('s0', [(2, report.HOLDS)], [0.1]) +
            rows_for('s1', [(2, report.FAILS)], [0.3]) +
            rows_for('s2', [(2, report.NA)], [NAN]))
    summary = {(s['signature'], s['variant']): s for s in report.seed_summary(rows)}
    sig2 = summary[2, '(signature)']
    assert (sig2['holds'], sig2['tested'], sig2['not_available']) == (1, 2, 1)
    variant = summary[2, 'variant 0']
    assert (variant['holds'], variant['tested']) == (1, 2)
    assert variant['effect_mean'] == pytest.approx(0.2)
    assert variant['effect_sd'] == pytest.approx(np.std([0.1, 0.3], ddof=1))


def test_seed_report_files(tmp_path):
    rows = rows_for('s0', [(1, report.HOLDS)]) + rows_for('s1', [(1, report.FAILS)])
    md, csv_path = report.write_seed_report(rows, str(tmp_path / 'report_seeds'))
    text = open(md).read()
    assert '| 1 | learning order | holds | does not hold | 1 of 2 |' in text
    assert len(report.read_csv(csv_path)) == 2


def test_script_refuses_a_folder_that_is_not_a_model(tmp_path, capsys):
    assert Main_report.main(['--model-dir', str(tmp_path / 'nothing')]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'not a trained model folder' in err[0]


# The staged run: 22 checkpoints. The automatic selection averages windows of 10
# checkpoints, so a plateau of 9 or 10 is the shortest it finds as a stage; the WM tasks
# stay early 10 and mid 10 checkpoints, the anti-saccade tasks 9 and 9 (learned first).
N_STAGED = 22
PLATEAUS = {'wm': (10, 10), 'anti': (9, 9)}


@pytest.fixture(scope='module')
def staged_model_dir(small_model_dir, tmp_path_factory):
    """The small model's checkpoints (n_rnn 16, dt 50 ms) re-used as a 22-checkpoint run
    whose log has clear early / mid / mature plateaus (anti-saccade tasks learned first,
    ODR and ODRD last), so that the auto-selection finds every stage of every rule."""
    src_log = tools.load_log(small_model_dir)
    src = src_log['trials']
    dst = str(tmp_path_factory.mktemp('models') / 'staged')
    step = src[1] - src[0]
    trials = [k * step for k in range(N_STAGED)]
    for k, t in enumerate(trials):
        shutil.copytree(tools.checkpoint_dir(small_model_dir, src[k * len(src) // N_STAGED]),
                        tools.checkpoint_dir(dst, t))
    shutil.copy(os.path.join(small_model_dir, tools.HP_FILE), dst)
    rs = np.random.RandomState(0)

    def plateaus(n_early, n_mid):
        n_mature = N_STAGED - n_early - n_mid
        levels = [0.34] * n_early + [0.64] * n_mid + [0.99] * n_mature
        return np.clip(np.array(levels) + rs.uniform(-0.01, 0.01, N_STAGED), 0, 1).tolist()

    log = {'trials': trials, 'times': [float(k) for k in range(N_STAGED)]}
    for rule in tools.load_hp(dst)['rule_trains']:
        log['perf_' + rule] = plateaus(*PLATEAUS['wm' if rule in ('odr', 'odrd') else 'anti'])
    log['perf_min'] = np.min([log['perf_' + r] for r in ('odr', 'odrd')], axis=0).tolist()
    log['perf_avg'] = log['perf_min']
    tools.save_log(log, dst)
    # the plateaus are long enough: Main_analysis's selection finds every stage of every rule
    selection = stages.range_auto_select(tools.load_hp(dst), log, avr_window=9,
                                         perf_margin=0.05, max_trial_num_limit=30)
    assert all(all(by_stage.values()) for by_stage in selection.values()), selection
    return dst


def _by_variant(rows):
    return {(r['signature'], r['variant']): r for r in rows}


def test_report_end_to_end_on_a_tiny_model(staged_model_dir, tmp_path, figure_root, capsys,
                                           monkeypatch):
    # one checkpoint per stage and small batches for the behavioural tests keep the test
    # short (16 trials per cue–distractor pair, one 128-trial batch per anti-saccade task)
    monkeypatch.setattr(report, 'BEHAVIOUR_CHECKPOINTS', 1)
    monkeypatch.setattr(report, 'DISTRACTOR_BATCH', 16)
    monkeypatch.setattr(report, 'SACCADE_BATCHES', 1)
    model_dir = str(tmp_path / 'staged')
    shutil.copytree(staged_model_dir, model_dir)
    assert Main_report.main(['--model-dir', model_dir, '--quiet', '--serial']) == 0
    out_dir = report.report_dir(model_dir)
    assert out_dir.startswith(str(figure_root))
    rows = report.read_csv(os.path.join(out_dir, 'signatures.csv'))
    assert {r['signature'] for r in rows} == set(report.SIGNATURES)
    by = _by_variant(rows)
    # Every stage of every rule exists, so every statistic is computed (the network is
    # untrained, so the verdicts may go either way) ...
    computed = [r for r in rows if r['verdict'] != report.NA]
    assert len(computed) == len(rows), [(r['variant'], r['note']) for r in rows
                                        if r['verdict'] == report.NA]
    # ... and the planted learning order of the log is found.
    order = by[1, 'anti-saccade before working-memory tasks']
    # anti-saccade tasks cross 0.95 at checkpoint 18, ODR and ODRD at 20
    assert order['verdict'] == report.HOLDS and order['effect'] == (20 - 18) * 32
    for key in [(2, 'odrd delay2, every stage checkpoint'),
                (4, 'gap: saccades within 36°, early vs mature'),
                (6, 'odr stim1 height, mature vs early')]:
        assert math.isfinite(by[key]['p']), key
    assert math.isfinite(by[3, 'slope over distance, mature']['value'])
    assert 0 <= by[5, 'odr, mature checkpoint closest to the mature target']['value'] <= 1
    text = open(os.path.join(out_dir, 'report.md')).read()
    assert '## Figures' in text
    images = [line for line in text.splitlines() if line.startswith('![')]
    assert images
    for line in images:
        target = line[line.index('(') + 1:-1]
        assert os.path.isfile(os.path.join(out_dir, target)), target
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith('staged: signatures') and 'report.md' in summary


def test_report_marks_what_a_partial_model_cannot_show(staged_model_dir, tmp_path, figure_root,
                                                       monkeypatch):
    # ODR and ODRD never leave chance: every stage of theirs is early.
    monkeypatch.setattr(report, 'BEHAVIOUR_CHECKPOINTS', 1)
    model_dir = str(tmp_path / 'partial')
    shutil.copytree(staged_model_dir, model_dir)
    log = tools.load_log(model_dir)
    for rule in ('odr', 'odrd'):
        log['perf_' + rule] = [0.2] * len(log['trials'])
    tools.save_log(log, model_dir)
    hp = tools.load_hp(model_dir)
    stages, growth = report.select_stages(hp, log, model_dir)
    assert not stages['odr']['mature'] and stages['odr']['early']
    # the working-memory signatures only: the anti-saccade ones are tested end to end above
    rows = report.learning_rows('partial', hp, log, growth)
    for fn in (report.working_memory_rows, report.distractor_rows, report.coding_rows,
               report.tuning_rows):
        rows += report.built_rows(fn('partial', hp, log, model_dir, stages))
    by = _by_variant(rows)
    for key in [(2, 'odr delay1, last checkpoint of each stage'),
                (2, 'odrd delay2, every stage checkpoint'),
                (5, 'odr, mature checkpoint closest to the mature target'),
                (6, 'odr stim1 height, mature vs early'),
                (3, 'mature − early at every distance'),
                (3, 'slope over distance, mature')]:
        assert by[key]['verdict'] == report.NA, key
        assert 'mature' in by[key]['note']
    verdicts = report.signature_verdicts(rows)
    assert verdicts[2] == verdicts[5] == verdicts[6] == report.NA
    # the anti-saccade tasks were learned (plateaus), the WM tasks never: order holds
    assert by[1, 'anti-saccade before working-memory tasks']['verdict'] == report.HOLDS


def test_not_available_rows_need_a_reason():
    with pytest.raises(ValueError, match='needs a note'):
        report.row('m', 2, 'odr delay1', 'n/a')
    assert report.row('m', 2, 'odr delay1', 'n/a', note='why')['note'] == 'why'


@pytest.mark.parametrize('rules, odr', [
    (['overlap', 'odr', 'odrd'], 'odr'),
    (['overlap', 'zero_gap', 'gap', 'odr3000', 'odrd', 'gap500'], 'odr3000'),
    (['odr15000'], 'odr15000'),
    (['odr500', 'odr1000'], 'odr1000'),          # the longest delay
    (['odr500', 'odr'], 'odr'),                  # the paper's task first
    (['overlap', 'odrd'], None),
])
def test_odr_rule_is_the_models_delayed_response_task(rules, odr):
    assert report.odr_rule({'rule_trains': rules}) == odr


def test_undefined_statistics_are_not_available_with_a_reason():
    # one unit per stage: no variance within stages, the ANOVA is undefined
    r = report._anova_row('m', 2, 'v', {'fire_rate': {'early': np.array([1.0]),
                                                      'mature': np.array([2.0])}})
    assert r['verdict'] == report.NA and 'ANOVA is undefined' in r['note']
    # with variation it is a verdict
    r = report._anova_row('m', 2, 'v', {'fire_rate': {'early': np.array([1.0, 1.2]),
                                                      'mature': np.array([2.0, 2.1])}})
    assert r['verdict'] == report.HOLDS and r['note'] == ''


def test_flat_distractor_curves_are_not_available_with_a_reason(monkeypatch):
    from analysis import behaviour
    import pandas as pd
    distances = np.array([0.0, 45.0, 90.0, 135.0, 180.0])

    def flat(hp, log, model_dir, trial_list, **kwargs):
        # the same performance at every distance in every stage: the slope's test is
        # undefined (no residual), the early-vs-mature difference is 0.5
        perf = [[0.3] * 5, [0.6] * 5, [0.8] * 5]
        return {'perf': pd.DataFrame(perf), 'stage': pd.Series(['early', 'mid', 'mature']),
                'distance_deg': distances, 'figures': []}
    monkeypatch.setattr(report, 'odrd_distractor_analysis', flat)
    stages_ = {'odrd': {'early': [0], 'mid': [1], 'mature': [2]}}
    rows = report.built_rows(report.distractor_rows('m', {'rule_trains': ['odrd']}, {}, 'm',
                                                    stages_))
    by = {r['variant']: r for r in rows}
    assert by['mature − early at every distance']['verdict'] == report.HOLDS
    assert by['slope over distance, early']['verdict'] == report.DESCRIPTIVE
    for stage in ('mid', 'mature'):
        r = by['slope over distance, ' + stage]
        assert r['verdict'] == report.NA and 'same at every distance' in r['note']

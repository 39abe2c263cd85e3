"""Main_report's cost on one model: wall time per signature, figures and bytes added.

    python benchmarks/bench_report.py --model-dir data/6tasks [--baseline]

The model folder is copied first (hp.json, log.json and the checkpoint folders only: no
pickles), so the run starts clean and the real folder is not touched. Rows:

    suite     analysis.report.model_rows as Main_report runs it: the signatures' analyses
              called inside an AnalysisPlan (analysis/plan.py), which makes what they
              read in one activity pass over the stage checkpoints and runs the
              behaviour analyses in a second process meanwhile;
    baseline  (--baseline) the straightforward way: the same signatures called one after
              the other without a plan, each analysis computing the activity it needs on
              its own (a second clean copy); its time per signature is shown.

The last line is the total wall time of the suite row (and the ratio to the baseline).
"""

import argparse
import os
import shutil
import tempfile
import time

import tools


def clean_copy(model_dir, dst):
    """Copy hp.json, log.json and the logged checkpoint folders (no pickles) to dst."""
    log = tools.load_log(model_dir)
    os.makedirs(dst)
    for name in (tools.HP_FILE, tools.LOG_FILE):
        shutil.copy(os.path.join(model_dir, name), dst)
    for t in log['trials']:
        src = tools.checkpoint_dir(model_dir, t)
        out = tools.checkpoint_dir(dst, t)
        os.makedirs(out)
        for f in os.listdir(src):
            if not f.endswith('.pkl'):
                shutil.copy(os.path.join(src, f), out)
    return dst


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def baseline_rows(model_dir):
    """(rows, {step: seconds}) of the signatures called one by one, without a plan."""
    from analysis import common, report
    from analysis.runner import log_on_disk
    hp = tools.load_hp(model_dir)
    log = log_on_disk(model_dir, tools.load_log(model_dir))
    model = common.model_name(model_dir)
    times = {}
    t0 = time.time()
    stages, growth = report.select_stages(hp, log, model_dir)
    times['stages (Fig S7)'] = time.time() - t0
    rows = report.learning_rows(model, hp, log, growth)
    for fn in report.SIGNATURE_ROWS:
        t0 = time.time()
        rows += report.built_rows(fn(model, hp, log, model_dir, stages))
        times[fn.__name__] = time.time() - t0
    return rows, times


def run(model_dir, planned, tmp):
    from analysis import figsave, report
    from analysis.session import Session
    label = 'suite' if planned else 'baseline'
    dst = clean_copy(model_dir, os.path.join(tmp, label, os.path.basename(
        os.path.normpath(model_dir))))
    before = folder_bytes(dst)
    t0 = time.time()
    # as Main_report: a session of its own, figures rendered by a worker process; the
    # total waits for them
    with Session(figure_root=os.path.join(tmp, 'figure_' + label)) as s, \
            figsave.in_background():
        if planned:
            rows, times = report.model_rows(dst), {}
        else:
            rows, times = baseline_rows(dst)
        t1 = time.time()
    times['figures still being written at the end'] = time.time() - t1
    total = time.time() - t0
    n_fig = sum(1 for _, _, fs in os.walk(s.figure_root) for f in fs if f.endswith('.png'))
    return times, total, n_fig, folder_bytes(dst) - before


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model-dir', default=os.path.join('data', '6tasks'))
    parser.add_argument('--baseline', action='store_true',
                        help='also time the signatures without the shared activity pass')
    args = parser.parse_args(argv)
    import matplotlib
    matplotlib.use('Agg')
    with tempfile.TemporaryDirectory() as tmp:
        results = {'suite': run(args.model_dir, True, tmp)}
        if args.baseline:
            results['baseline'] = run(args.model_dir, False, tmp)
    steps = list(dict.fromkeys(k for r in results.values() for k in r[0]))
    print('{:<28s}'.format('step (s)') + ''.join('{:>10s}'.format(k) for k in results))
    for step in steps:
        print('{:<28s}'.format(step) + ''.join(
            '{:>10.1f}'.format(r[0][step]) if step in r[0] else '{:>10s}'.format('-')
            for r in results.values()))
    for label, i, fmt in (('total', 1, '{:>10.1f}'), ('figures (png)', 2, '{:>10d}'),
                          ('MB added to the model', 3, '{:>10.1f}')):
        print('{:<28s}'.format(label) + ''.join(
            fmt.format(r[i] / (1 << 20) if i == 3 else r[i]) for r in results.values()))
    suite = results['suite'][1]
    line = 'Main_report on {}: {:.1f} s'.format(args.model_dir, suite)
    if 'baseline' in results:
        line += '; ratio to baseline {:.2f}'.format(results['baseline'][1] / suite)
    print(line)


if __name__ == '__main__':
    main()

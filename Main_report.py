"""Do the paper's maturation signatures hold — on this model, and across models?

    python Main_report.py                                    # data/6tasks
    python Main_report.py --model-dir data/6tasks data/6tasks_seed1 data/6tasks_seed2

For each model folder, computes every signature of PAPER.md (learning order, working
memory, distractor, anti-saccade, coding, tuning) as a number with its test, using the
suite's own analyses with Main_analysis's defaults (stages auto-selected from the model's
log), and writes figure/report_<model>/report.md (the table, with the figures it used)
and signatures.csv. With several folders it also writes figure/report_seeds/report.md
and signatures.csv: per signature, how many models reproduce it and the effect size
mean ± sd across them. Rows a model cannot support say "not available" and why.
"""

import argparse
import os
import sys
import time

DEFAULT_MODEL_DIR = os.path.join('data', '6tasks')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model-dir', '--modeldir', dest='model_dir', nargs='+',
                        default=[DEFAULT_MODEL_DIR], metavar='DIR',
                        help='trained model folder(s) (default: %(default)s)')
    parser.add_argument('--quiet', action='store_true', help='no progress bars')
    parser.add_argument('--serial', action='store_true',
                        help='run every analysis in this process (by default, on two cores or '
                             'more, the behaviour analyses run in a second process)')
    return parser.parse_args(argv)


def _check_models(model_dirs):
    """One-line error message for folders that are not models, or None."""
    import tools
    bad = [d for d in model_dirs if not tools.is_valid_model_dir(d)]
    if bad:
        found = tools.valid_model_dirs(os.path.dirname(os.path.normpath(bad[0])) or '.')
        return ('not a trained model folder (hp.json and log.json needed): {}; models '
                'found there: {}'.format(', '.join(bad), ', '.join(found) or 'none'))
    names = [os.path.basename(os.path.normpath(d)) for d in model_dirs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        return ('two model folders share the name {} (reports are named by folder)'
                .format(', '.join(dup)))
    return None


def main(argv=None):
    args = parse_args(argv)
    error = _check_models(args.model_dir)
    if error:
        print('Main_report.py: error: ' + error, file=sys.stderr)
        return 2
    import matplotlib
    matplotlib.use('Agg')          # figures are only written to files
    from analysis import figsave, report
    from analysis.session import Session

    start = time.time()
    all_rows = []
    for model_dir in args.model_dir:
        t0 = time.time()
        # the figures are rendered by a worker process while the statistics are computed;
        # they are all written when the with-block ends (report.md embeds the files). The
        # session of each model lists its damaged checkpoints.
        with Session() as analysed, figsave.in_background():
            rows = report.model_rows(model_dir, verbose=not args.quiet, serial=args.serial)
        md, _ = report.write_model_report(rows, report.report_dir(model_dir), model_dir,
                                          seconds=time.time() - t0)
        all_rows += rows
        print(_summary_line(report, rows, md, time.time() - t0,
                            analysed.damaged.trials(model_dir)), flush=True)
    if len(args.model_dir) > 1:
        md, _ = report.write_seed_report(all_rows, report.report_dir())
        counts = [s for s in report.seed_summary(all_rows) if s['variant'] == '(signature)']
        print('Across {} models: {} — {} ({:.0f} s)'.format(
            len(args.model_dir), ', '.join('{} {}/{}'.format(s['signature'], s['holds'],
                                                             s['tested'])
                                           for s in counts), md, time.time() - start))
    return 0


def _summary_line(report, rows, md, seconds, damaged=()):
    verdicts = report.signature_verdicts(rows)
    groups = {}
    for number, verdict in verdicts.items():
        groups.setdefault(verdict, []).append(str(number))
    text = '; '.join('{} {}'.format(v, ','.join(groups[v]))
                     for v in (report.HOLDS, report.FAILS, report.NA) if v in groups)
    return '{}: signatures {} — {} ({:.0f} s){}'.format(
        rows[0]['model'], text, md, seconds, '; {} damaged checkpoint(s) left out: {}'.format(
            len(damaged), ', '.join(map(str, damaged))) if damaged else '')


if __name__ == '__main__':
    sys.exit(main())

"""Analysis speed: this suite's vectorised analyses against per-unit baselines.

    python benchmarks/bench_analysis.py [--model-dir data/demo] [--trial 6400] [--rule odr]
                                        [--epoch stim1] [--loop-units 64] [--repeats 10]
    python benchmarks/bench_analysis.py --main-analysis data/6tasks [--all]

Row 'neuron_info': the classification behind generate_neuron_info (paired t-tests fix1 vs
stim1 per unit and location, one-way ANOVA across locations, active / selective / exc /
inh / mixed lists) on one checkpoint's H (T, 128 trials, n_rnn), computed

    baseline  the original suite's way: a Python loop over units and locations with
              scipy.stats.ttest_rel and statsmodels ols + anova_lm(typ=2) per unit;
    suite     analysis.neuron_info.neuron_info_from_H: all units and locations at once.

The baseline is timed on --loop-units units and extrapolated linearly to all units (each
unit costs the same: 8 t-tests and one OLS fit); the table says when it is extrapolated.
H is a real one (data/demo, or any model folder with H pickles) when available, else a
synthetic one of the paper's shape (175 steps × 128 trials × 256 units, odr epochs).

--main-analysis DIR: the default Main_analysis.py on a clean copy of DIR (hp.json,
log.json and the checkpoints it lists, no pickles) made in a scratch folder — DIR itself
is only read, so a training may still be writing into it — then a second run on the same
copy; for each: wall time, PNG figures written, bytes added to the model folder.

Each benchmark is a function returning rows; add further ones to BENCHMARKS.
"""

import argparse
import os
import resource
import tempfile
import time
import warnings
from collections import namedtuple

import numpy as np

import tools
from analysis import common
from analysis import neuron_info as ni

# One line of the result table. baseline_s / suite_s in seconds (None: not measured).
Row = namedtuple('Row', 'name baseline_s suite_s note')

ODR_EPOCHS = {'fix1': (None, 50), 'stim1': (50, 75), 'delay1': (75, 150), 'go1': (150, None)}


# ----------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------
def load_activity(model_dir, trial, rule):
    """(H (T, B, N) float32, task_info entry of the rule, description of the source)."""
    path = common.H_path(model_dir, trial, rule)
    if os.path.isfile(path) and os.path.isfile(common.task_info_path(model_dir)):
        H = common.load_H(model_dir, trial, rule)
        info = common.load_task_info(model_dir)[rule]
        return H, info, 'real H: {}'.format(path)
    return synthetic_activity() + ('synthetic H (no {})'.format(path),)


def synthetic_activity(T=175, per_loc=16, n_loc=8, n_units=256, seed=0):
    """Softplus-like activity with odr timing: baseline, tuned cue and delay responses."""
    rng = np.random.RandomState(seed)
    in_loc = np.repeat(np.arange(n_loc), per_loc)
    base = rng.lognormal(-1, 0.5, n_units)
    gain = rng.choice([-1, 1], n_units) * 10 ** rng.uniform(-2, 0.3, n_units)
    pref = rng.randint(0, n_loc, n_units)
    dist = np.angle(np.exp(1j * 2 * np.pi * (in_loc[:, None] - pref) / n_loc))
    H = np.empty((T, in_loc.size, n_units))
    H[:] = base
    H[50:150] = base * (1 + gain * np.exp(-dist ** 2 / 2))
    H = np.log1p(np.exp(H + 0.1 * base * rng.randn(*H.shape)))
    info = {'in_loc': in_loc, 'in_loc_set': list(range(n_loc)), 'epoch_info': ODR_EPOCHS}
    return H.astype(np.float32), info


# ----------------------------------------------------------------------------------------
# Baseline: the per-unit loop of the original suite
# ----------------------------------------------------------------------------------------
def loop_neuron_info(H, info, epoch, units, norm=True, annova_p_value=0.05,
                     paired_ttest_p=0.05, abs_active_thresh=1e-3):
    """Lists of neuron_info for ``units``, one unit and one location at a time."""
    import pandas as pd
    from scipy.stats import ttest_rel
    from statsmodels.formula.api import ols
    from statsmodels.stats.anova import anova_lm

    ep = info['epoch_info']
    in_loc = np.asarray(info['in_loc'])
    out = {k: [] for k in common.NEURON_TYPES}
    for neuron in units:
        data, rate_abs, rate_norm, rate, n_resp = {}, [], [], [], 0
        for loc in info['in_loc_set']:
            sel = in_loc == loc
            fix = H[slice(*ep['fix1']), sel, neuron].mean(axis=0)
            cue = H[slice(*ep['stim1']), sel, neuron].mean(axis=0)
            if ttest_rel(fix, cue)[1] <= paired_ttest_p:
                n_resp += 1
            raw = H[slice(*ep[epoch]), sel, neuron].mean(axis=0)
            normed = raw / fix.mean() - 1
            data[loc] = normed if norm else raw
            rate_abs.append(raw.mean())
            rate_norm.append(normed.mean())
            rate.append(data[loc].mean())
        if max(rate_abs) > abs_active_thresh and n_resp > 0:
            pref = rate.index(max(rate))
            out['active_neurons'].append((neuron, None, pref))
            frame = pd.DataFrame(data).melt()
            frame.columns = ['Location', 'Fire_rate']
            p = anova_lm(ols('Fire_rate~C(Location)', data=frame).fit(),
                         typ=2)['PR(>F)'].iloc[0]
            if p <= annova_p_value:
                out['selective_neurons'].append((neuron, p, pref))
                kind = ('inh_neurons' if max(rate_norm) < 0 else
                        'exh_neurons' if min(rate_norm) >= 0 else 'mix_neurons')
                out[kind].append((neuron, p, pref))
    return out


def _same_lists(a, b, units):
    keep = set(units)
    for key in common.NEURON_TYPES:
        mine = [(u, i) for u, _, i in a[key] if u in keep]
        if mine != [(u, i) for u, _, i in b[key]]:
            return False
        for (_, p, _), (_, q, _) in zip([x for x in a[key] if x[0] in keep], b[key]):
            if (p is None) != (q is None) or (p is not None and abs(p - q) > 1e-9):
                return False
    return True


def _median_time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


# ----------------------------------------------------------------------------------------
# Benchmarks (each returns a list of Row)
# ----------------------------------------------------------------------------------------
def bench_neuron_info(args):
    H, info, source = load_activity(args.model_dir, args.trial, args.rule)
    T, B, N = H.shape
    print('neuron_info on {} — H {} × {} × {}, epoch {}'.format(source, T, B, N, args.epoch))
    n_loop = min(args.loop_units, N)
    units = list(np.linspace(0, N - 1, n_loop).round().astype(int)) if n_loop < N \
        else list(range(N))

    def suite():
        return ni.neuron_info_from_H(H, info['in_loc'], info['epoch_info'], args.epoch,
                                     in_loc_set=info['in_loc_set'])

    t_suite = _median_time(suite, args.repeats)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        t0 = time.perf_counter()
        ref = loop_neuron_info(H.astype(np.float64), info, args.epoch, units)
        t_loop = (time.perf_counter() - t0) * N / len(units)
    agree = _same_lists(suite(), ref, units)
    note = 'loop timed on {} of {} units, extrapolated ×{:.1f}'.format(
        len(units), N, N / len(units)) if len(units) < N else 'loop on all units'
    note += '; lists {}'.format('agree' if agree else 'DIFFER')
    rows = [Row('neuron_info: {} units × {} locations'.format(N, len(info['in_loc_set'])),
                t_loop, t_suite, note)]

    # The whole generate_neuron_info call for one checkpoint and epoch, pickle I/O included,
    # in a scratch model folder (never writes into the source model).
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = os.path.join(tmp, 'bench')
        ckpt = tools.checkpoint_dir(model_dir, args.trial)
        tools.mkdir_p(ckpt)
        tools.save_pickle(H, os.path.join(ckpt, 'H_{}.pkl'.format(args.rule)))
        tools.save_pickle({args.rule: info}, common.task_info_path(model_dir))
        hp = {'rule_trains': [args.rule], 'n_rnn': N}

        def full():
            ni.generate_neuron_info(hp, model_dir, args.epoch, [args.trial], args.rule,
                                    recompute=True, verbose=False)

        t_full = _median_time(full, max(1, args.repeats // 2))
    rows.append(Row('generate_neuron_info: 1 checkpoint, incl. pickle I/O', None, t_full,
                    'suite only'))
    return rows


def bench_population(args):
    """Distractor analysis and decoder per checkpoint, monkey decoder, dPCA fit
    (benchmarks/bench_population.py)."""
    import bench_population
    rows, _, trials = bench_population.population_rows(args.model_dir, n_checkpoints=2,
                                                       window=10, dpca=True)
    return [Row(name, b, s, 'checkpoints {}'.format(trials) if name.startswith('distractor')
                else '') for name, b, s in rows]


def folder_bytes(path):
    """Total size in bytes of the files under path."""
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path)
               for f in files)


def clean_model_copy(src, dst):
    """Copy of a model folder as training left it: hp.json, log.json and the checkpoint
    folders log.json lists (read first, so that a training still writing into src gives a
    consistent copy), without H / neuron_info / task_info pickles."""
    import shutil
    log = tools.load_log(src)
    tools.mkdir_p(dst)
    for name in ('hp.json', 'log.json'):
        shutil.copy2(os.path.join(src, name), os.path.join(dst, name))
    skip = shutil.ignore_patterns('H_*.pkl', 'neuron_info_*', 'task_info.pkl', '*.tmp*')
    for t in log['trials']:
        folder = tools.checkpoint_dir(src, t)
        if os.path.isdir(folder):
            shutil.copytree(folder, tools.checkpoint_dir(dst, t), ignore=skip)
    return len(log['trials'])


def bench_main_analysis(args):
    """The default `python Main_analysis.py` on a clean copy of a trained model (no
    pickles: everything computed), then a second run on the same copy: wall time, figures
    written (PNG), bytes added to the model folder. The source folder is only read;
    figures go to a scratch folder."""
    if not args.main_analysis:
        return []
    import subprocess
    import sys
    src = os.path.abspath(args.main_analysis)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        dst = os.path.join(tmp, os.path.basename(src))
        n = clean_model_copy(src, dst)
        size0 = folder_bytes(dst)
        print('Main_analysis on a clean copy of {} ({} checkpoints, {:.1f} MB)'.format(
            src, n, size0 / 1e6))
        for name in ('first run (clean copy)', 'second run (same copy)'):
            before = folder_bytes(dst)
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            since = time.time()
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, os.path.join(repo, 'Main_analysis.py'),
                                   '--model-dir', dst], cwd=tmp, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, universal_newlines=True)
            wall = time.perf_counter() - t0
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            # CPU time of the run (all threads): what it costs whatever else the machine runs
            cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
            if proc.returncode != 0:
                print(proc.stderr[-3000:])
                raise SystemExit('Main_analysis.py failed (exit {})'.format(proc.returncode))
            lines = proc.stdout.splitlines()
            first = [i for i, line in enumerate(lines) if line.startswith('Main_analysis:')]
            summary = lines[first[-1]:] if first else []
            added = folder_bytes(dst) - before
            n_fig = sum(1 for d, _, files in os.walk(os.path.join(tmp, 'figure'))
                        for f in files if f.endswith('.png')
                        and os.path.getmtime(os.path.join(d, f)) >= since)
            print('  {}: {:.1f} s wall, {:.1f} s CPU, {} PNG figure(s) in the figure folder, '
                  '{:.1f} MB added to the model folder ({:.3f} MB per checkpoint folder); '
                  'load average {:.1f}'.format(name, wall, cpu, n_fig, added / 1e6,
                                               added / 1e6 / max(n, 1), os.getloadavg()[0]))
            for line in summary:          # figures, skipped blocks by reason, slowest
                print('    ' + line)
            rows.append(Row('Main_analysis.py default, {} ({} ckpts)'.format(name, n), None,
                            wall, '{:.0f} s CPU, {} figures, +{:.1f} MB in the model folder'
                            .format(cpu, n_fig, added / 1e6)))
    return rows


# Further analyses add a function here (args → [Row, ...]).
BENCHMARKS = [bench_neuron_info, bench_population, bench_main_analysis]


def print_table(rows):
    print('\n{:<55s} {:>12s} {:>10s} {:>8s}  {}'.format('', 'baseline s', 'suite s',
                                                       'ratio', 'note'))
    for r in rows:
        if r.baseline_s is None:
            base, ratio = '{:>12s}'.format('—'), '{:>8s}'.format('—')
        else:
            base = '{:12.3f}'.format(r.baseline_s)
            ratio = '{:7.1f}x'.format(r.baseline_s / r.suite_s)
        print('{:<55s} {} {:10.4f} {}  {}'.format(r.name, base, r.suite_s, ratio, r.note))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model-dir', default='data/demo',
                        help='model folder with H pickles (read only)')
    parser.add_argument('--trial', type=int, default=6400)
    parser.add_argument('--rule', default='odr')
    parser.add_argument('--epoch', default='stim1')
    parser.add_argument('--loop-units', type=int, default=64,
                        help='units timed in the per-unit baseline (then extrapolated)')
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--main-analysis', metavar='MODEL_DIR', default=None,
                        help='time the default Main_analysis.py run on a clean copy of this '
                             'trained model and a second run on that copy, e.g. data/6tasks '
                             '(minutes); only this benchmark unless --all')
    parser.add_argument('--all', action='store_true',
                        help='with --main-analysis, run the other benchmarks too')
    args = parser.parse_args(argv)
    rows = []
    benches = [bench_main_analysis] if args.main_analysis and not args.all else BENCHMARKS
    for bench in benches:
        rows.extend(bench(args))
    print('{} cores'.format(os.cpu_count()))
    print_table(rows)
    first = rows[0] if rows else None
    if first is not None and first.baseline_s:
        print('\nneuron_info speed-up: {:.0f}x (target ≥ 100x)'.format(
            first.baseline_s / first.suite_s))


if __name__ == '__main__':
    main()

"""Speed of the behaviour and population analyses: s per checkpoint, suite vs baseline.

    python benchmarks/bench_population.py [--model data/demo] [--checkpoints 2]
                                          [--window 10] [--no-dpca]

Rows (each timed on the same data, same trials, same results):
* ODRD distractor analysis per checkpoint (64 cue/distractor batches of 128 trials).
  Baseline: checkpoint restored once, then 64 separate forward passes of 128 trials, as
  the original ran them. Suite: odrd_distractor_analysis (concatenated batches, chunks
  of 2048 trials), figures off.
* Cross-temporal decoder per checkpoint (ODR, window --window steps, stride 1).
  Baseline: the original's loops, one SVC fit per training window and one
  SVC.score call per cell. Suite: Decoder_analysis's computation (one fit per window,
  all test windows predicted in one vectorised pass).
* Monkey decoder (synthetic 40-unit recording, window 5, stride 1): baseline refits the
  StandardScaler for every cell as the original did; suite scales each window once.
* dPCA fit (synthetic 40-unit recording, regularizer 'auto'): baseline = the dpca
  package with the machine's default BLAS threads; suite = fit_dpca (one BLAS thread).
"""

import argparse
import os
import tempfile
import time

import numpy as np

import task
import tools
from analysis import activity, behaviour, common, decoding, dpca_analysis, monkey
from network import get_perf


def _checkpoints(model_dir, n):
    trials = tools.list_checkpoints(model_dir)
    trials = [t for t in trials if t > 0] or trials
    return trials[-n:]


def distractor_baseline(hp, model_dir, trials, batch_size=128):
    n = hp['n_eachring']
    out = []
    with activity.CheckpointRunner(model_dir, hp) as runner:
        for t in trials:
            runner.restore(t)
            perf = np.zeros((n, n))
            for a in range(n):
                for b in range(n):
                    trial = task.generate_trials('odrd', hp, 'test-a-b', a=a, b=b,
                                                 batch_size=batch_size)
                    (y_hat,) = runner.run(trial, ['y_hat'])
                    perf[a, b] = get_perf(y_hat, trial.y_loc).mean()
            out.append(perf)
    return out


def decoder_baseline(F, labels, test_num, scale=False, offdiag='all'):
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    n_w = F.shape[0]
    test = decoding.held_out_mask(labels, test_num)
    prep = (lambda f: StandardScaler().fit_transform(f)) if scale else (lambda f: f)
    acc = np.empty((n_w, n_w))
    for i in range(n_w):
        Fi = prep(F[i])
        clf = SVC().fit(Fi[~test], labels[~test])
        for j in range(n_w):
            Fj = prep(F[j]) if scale else F[j]
            if i == j or offdiag == 'held_out':
                acc[i, j] = clf.score(Fj[test], labels[test])
            else:
                acc[i, j] = clf.score(Fj, labels)
    return acc


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def population_rows(model_dir, n_checkpoints=2, window=10, dpca=True):
    """[(name, baseline s, suite s)] of the distractor analysis and decoder per checkpoint
    of model_dir, the monkey decoder and the dPCA fit (synthetic recording)."""
    hp, log = tools.load_hp(model_dir), tools.load_log(model_dir)
    trials = _checkpoints(model_dir, n_checkpoints)
    rows = []

    # --- ODRD distractor analysis -----------------------------------------------------
    hp['rng'] = np.random.RandomState(0)
    base, _ = _timed(lambda: distractor_baseline(hp, model_dir, trials))
    hp['rng'] = np.random.RandomState(0)
    suite, _ = _timed(lambda: behaviour.odrd_distractor_analysis(
        hp, log, model_dir, trials, plot=False, verbose=False))
    rows.append(('distractor analysis / checkpoint', base / len(trials), suite / len(trials)))

    # --- decoder on RNN units -----------------------------------------------------------
    t = trials[-1]
    H = activity.Get_H(hp, model_dir, t, 'odr')
    labels = np.asarray(common.load_task_info(model_dir)['odr']['in_loc'])
    F, _ = decoding.window_features(H, window, 1)
    base, acc_b = _timed(lambda: decoder_baseline(F, labels, 2))
    suite, acc_s = _timed(lambda: decoding.cross_temporal_accuracy(F, labels, 2))
    assert np.allclose(acc_b, acc_s), 'decoder results differ'
    rows.append(('decoder / checkpoint ({} windows)'.format(F.shape[0]), base, suite))

    with tempfile.TemporaryDirectory() as tmp:
        path = monkey.make_synthetic_recording(os.path.join(tmp, 'rec.txt'), n_units=40)
        data = monkey.read_recording(path)
        Hm = data.transpose(2, 0, 1, 3).reshape(176, 64, -1)
        lab_m = np.repeat(np.arange(1, 9), 8)
        Fm, _ = decoding.window_features(Hm, 5, 1)
        base, acc_b = _timed(lambda: decoder_baseline(Fm, lab_m, 4, scale=True,
                                                       offdiag='held_out'))
        suite, acc_s = _timed(lambda: decoding.cross_temporal_accuracy(
            decoding.standardize_windows(Fm), lab_m, 4, offdiag='held_out'))
        assert np.allclose(acc_b, acc_s), 'monkey decoder results differ'
        rows.append(('monkey decoder ({} windows)'.format(Fm.shape[0]), base, suite))

        if dpca:
            import contextlib
            import io
            from dPCA import dPCA
            trialR = data.transpose(1, 3, 0, 2)
            R = dpca_analysis.trial_average(trialR)

            def plain():
                np.random.seed(0)
                with contextlib.redirect_stdout(io.StringIO()):
                    model = dPCA.dPCA(labels='st', regularizer='auto')
                    model.protect = ['t']
                    return model.fit_transform(R, trialR)

            base, _ = _timed(plain)
            suite, _ = _timed(lambda: dpca_analysis.fit_dpca(trialR))
            rows.append(('dPCA fit, 40 units, regularizer auto', base, suite))
    return rows, hp, trials


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', default='data/demo')
    parser.add_argument('--checkpoints', type=int, default=2)
    parser.add_argument('--window', type=int, default=10)
    parser.add_argument('--no-dpca', action='store_true')
    args = parser.parse_args(argv)
    rows, hp, trials = population_rows(args.model, args.checkpoints, args.window,
                                       dpca=not args.no_dpca)
    print('\nmodel {} (n_rnn {}), checkpoints {}, {} cores'.format(
        args.model, hp['n_rnn'], trials, os.cpu_count()))
    print('{:<42s} {:>12s} {:>12s} {:>8s}'.format('', 'baseline s', 'suite s', 'ratio'))
    for name, b, s in rows:
        print('{:<42s} {:>12.2f} {:>12.2f} {:>7.2f}x'.format(name, b, s, b / s))


if __name__ == '__main__':
    main()

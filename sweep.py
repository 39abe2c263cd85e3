"""Sweeps of training runs: named experiments, run one after another, in parallel worker
processes on this machine, or as Ray tasks on a cluster.

An :class:`Experiment` is a *parameterisation* of the paper run (``train.PAPER_HP``):
the hp keys it changes, the ruleset and the rules it trains. The table of the suite's
experiments lives in ``Training_with_diff_HyperParameters.py``; this module holds the
machinery, so that a notebook or another script can declare its own table.

Every run is resumable: ``train.train`` on a folder that already holds a run with the same
hp continues from its last checkpoint. A sweep launched again therefore only finishes what
is missing; an experiment that already reached its target performance (or the requested
trial budget) is reported as already done and not started at all (no TensorFlow graph is
built for it).

Summaries: every runner returns one dict per experiment::

    {'name', 'model_dir', 'status', 'already', 'trials', 'perf_min', 'seconds', 'error'}

status is 'done' (every trained rule above hp['target_perf']), 'stopped' (the trial
budget max_trials was reached first), 'interrupted' (Ctrl-C; run again to resume),
'error' (the exception message is in 'error') or 'not started'. already is True when the
folder held a finished run and nothing was trained. trials is the trial number of the last
checkpoint, perf_min the worst trained rule's performance there (None without a log).
A run trained as a Ray task also has 'node', the id (hex) of the Ray node that ran it.
"""

import dataclasses
import fnmatch
import json
import logging
import multiprocessing
import os
import signal
import time
import traceback

from tqdm.auto import tqdm

import folder_lock
import task
import train

# train.train's "no limit" value of max_steps (it stops at the target performance).
UNLIMITED_TRIALS = 1e7
# Where the code lives (uploaded to Ray clusters that are not this machine's).
REPO_DIR = os.path.dirname(os.path.abspath(__file__))
# Never uploaded to a Ray cluster: trained models, figures, caches.
RAY_EXCLUDES = ['data/', 'figure/', '.git/', '__pycache__/', '*.ckpt*', '*.pkl', '*.ipynb']
# Characters of a Ray node id shown in the summaries (as `ray status` abbreviates them).
NODE_ID_CHARS = 8
# Keyword options of run_many that are handed to run_experiment.
RUN_OPTIONS = ('max_trials', 'hp_overrides', 'seed', 'display_step')


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One named training run: the paper hp plus ``overrides``, on ``ruleset``.

    Attributes:
        name: experiment name (also the model folder name under the sweep root unless
            ``folder`` is given).
        what: one-line description shown by ``--list``.
        overrides: hp keys that differ from train.PAPER_HP, e.g. {'n_rnn': 64}.
        ruleset: a key of task.rules_dict; fixes the rule input units.
        rule_trains: the rules trained and evaluated (tuple); None trains every rule of
            the ruleset.
        folder: model folder name under the root (default: name).
        seed: the run's seed; None (the default) uses the seed of the launch (--seed).
    """
    name: str
    what: str
    overrides: dict
    ruleset: str
    rule_trains: tuple = None
    folder: str = None
    seed: int = None

    def run_seed(self, seed):
        """The seed this experiment trains with when the launch asks for ``seed``."""
        return seed if self.seed is None else self.seed

    @property
    def rules(self):
        """The rules trained (list)."""
        if self.rule_trains is None:
            return list(task.rules_dict[self.ruleset])
        return list(self.rule_trains)

    @property
    def dirname(self):
        return self.folder or self.name

    def model_dir(self, root):
        return os.path.join(root, self.dirname)


# ----------------------------------------------------------------------------------------
# Registry and selection
# ----------------------------------------------------------------------------------------
def check_hp_keys(overrides, ruleset='all_new', what='hp override'):
    """Raise InvalidHpError (a ValueError) naming the valid keys if overrides holds a key
    an experiment may not override: an unknown one, or one set from the launch (seed,
    rules, ...; see train.DERIVED_HP_KEYS)."""
    train.check_hp_keys(overrides, ruleset, what=what, derived=False)


def registry(experiments):
    """{name: Experiment} in table order, after checking every entry.

    Raises ValueError for a duplicate name or model folder, an unknown ruleset, a rule
    outside its ruleset or an unknown hp key, so that a typo in the table shows at import
    time rather than hours into a sweep.
    """
    table = {}
    folders = set()
    for exp in experiments:
        if exp.name in table:
            raise ValueError('Experiment {!r} is declared twice'.format(exp.name))
        if exp.dirname in folders:
            raise ValueError('Two experiments write into folder {!r}'.format(exp.dirname))
        if exp.ruleset not in task.rules_dict:
            raise ValueError('Experiment {!r}: unknown ruleset {!r}; valid rulesets: {}'
                             .format(exp.name, exp.ruleset, sorted(task.rules_dict)))
        bad = [r for r in exp.rules if r not in task.rules_dict[exp.ruleset]]
        if bad:
            raise ValueError('Experiment {!r}: rules {} are not in ruleset {!r}; valid '
                             'rules: {}'.format(exp.name, bad, exp.ruleset,
                                                task.rules_dict[exp.ruleset]))
        check_hp_keys(exp.overrides, exp.ruleset,
                      what='hp override of experiment {!r}'.format(exp.name))
        table[exp.name] = exp
        folders.add(exp.dirname)
    return table


def select(patterns, table):
    """Names of table matching ``patterns`` (names or shell patterns like 'set2_*'), in
    table order, each once. None or [] selects every experiment.

    Raises ValueError listing the valid names if a pattern matches nothing.
    """
    if not patterns:
        return list(table)
    if isinstance(patterns, str):
        patterns = [patterns]
    unmatched = [p for p in patterns if not fnmatch.filter(table, p)]
    if unmatched:
        raise ValueError('Unknown experiment name(s) {}; valid names: {} (shell patterns '
                         "such as 'set2_*' are accepted)".format(
                             ', '.join(repr(p) for p in unmatched), ', '.join(table)))
    return [name for name in table if any(fnmatch.fnmatchcase(name, p) for p in patterns)]


def format_table(experiments):
    """The text table printed by ``--list``, one line per experiment: name, description,
    model folder, hp overrides (on the paper hp), ruleset, rules trained."""
    rows = [('name', 'what', 'model dir', 'hp overrides', 'ruleset', 'rules trained')]
    for exp in experiments:
        overrides = ', '.join('{}={}'.format(k, v) for k, v in exp.overrides.items())
        rules = ','.join(exp.rules)
        rows.append((exp.name, exp.what, exp.dirname, overrides or '-', exp.ruleset,
                     'all: ' + rules if exp.rule_trains is None else rules))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                     for r in rows)


# ----------------------------------------------------------------------------------------
# hp
# ----------------------------------------------------------------------------------------
def merged_overrides(exp, hp_overrides=None):
    """The hp dict handed to train.train: train.PAPER_HP, then the experiment's
    overrides, then hp_overrides (e.g. a tiny n_rnn for tests)."""
    hp = dict(train.PAPER_HP)
    hp.update(exp.overrides)
    if hp_overrides:
        check_hp_keys(hp_overrides, exp.ruleset)
        hp.update(hp_overrides)
    return hp


def build_hp(exp, seed=0, hp_overrides=None):
    """The complete hp of an experiment, as train.train saves it in hp.json (plus 'rng'):
    train.prepare_hp of merged_overrides on exp.ruleset, exp.rules and the run's seed."""
    return train.prepare_hp(merged_overrides(exp, hp_overrides), exp.ruleset, exp.rules,
                            seed=exp.run_seed(seed))


# ----------------------------------------------------------------------------------------
# State of a model folder
# ----------------------------------------------------------------------------------------
def experiment_state(exp, root, seed=0, hp_overrides=None, max_trials=None):
    """What a launch of exp would do, read from the model folder (no TensorFlow, nothing
    written): train.run_state's (state, log), state 'new', 'partial', 'done' or
    'stopped'. Raises the errors train would (tools.HpMismatchError for a folder holding
    a run with other hp, tools.CorruptFileError, tools.NotAModelFolderError)."""
    return train.run_state(exp.model_dir(root), build_hp(exp, seed, hp_overrides),
                           max_trials)


def _mark_interrupted(results, experiments, root, kwargs):
    """Give every experiment without a result an 'interrupted' summary."""
    for exp in experiments:
        if exp.name not in results:
            results[exp.name] = _interrupted_summary(exp, root, kwargs)


def _interrupted_summary(exp, root, kwargs):
    """Summary of a run stopped from outside, from what its folder holds."""
    try:
        _, log = experiment_state(exp, root, kwargs.get('seed', 0),
                                  kwargs.get('hp_overrides'), kwargs.get('max_trials'))
    except (OSError, ValueError):  # e.g. a half-written first file: nothing to show
        log = None
    return _summary(exp, root, 'interrupted', log)


def _summary(exp, root, status, log=None, seconds=0.0, already=False, error=None):
    last = bool(log and log.get('trials'))
    return {'name': exp.name, 'model_dir': exp.model_dir(root), 'status': status,
            'already': already,
            'trials': int(log['trials'][-1]) if last else 0,
            'perf_min': float(log['perf_min'][-1]) if last else None,
            'seconds': float(seconds), 'error': error}


# ----------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------
def run_experiment(exp, root='data', max_trials=None, hp_overrides=None, seed=0,
                   display_step=None, verbose=False):
    """Train (or continue) one experiment into <root>/<exp.dirname>; return its summary.

    max_trials: stop after this many training trials (None: until every trained rule
        exceeds target_perf, the paper's criterion).
    hp_overrides: extra hp changes on top of the experiment's (e.g. {'n_rnn': 16}).
    display_step: steps between checkpoints (default train.PAPER_DISPLAY_STEP = 20,
        i.e. one checkpoint every 1,280 trials).
    A folder that already holds the finished run is not touched: the summary then has
    already=True. Exceptions (e.g. tools.HpMismatchError for a folder holding a run with
    other hp) propagate, and so does Ctrl-C (KeyboardInterrupt, after train's message).
    """
    seed = exp.run_seed(seed)
    state, log = experiment_state(exp, root, seed, hp_overrides, max_trials)
    if state in ('done', 'stopped'):
        return _summary(exp, root, state, log, already=True)
    hp = merged_overrides(exp, hp_overrides)
    display_step = train.PAPER_DISPLAY_STEP if display_step is None else display_step
    t0 = time.time()
    log = train.train(exp.model_dir(root), hp=hp, ruleset=exp.ruleset,
                      rule_trains=exp.rules, display_step=display_step, seed=seed,
                      max_steps=UNLIMITED_TRIALS if max_trials is None else max_trials,
                      verbose=verbose)
    # train() returns only when the run stops ('done' or 'stopped').
    status = train.stop_reason(log, build_hp(exp, seed, hp_overrides)['target_perf'],
                               max_trials)
    return _summary(exp, root, status, log, seconds=time.time() - t0)


def cpu_count():
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def limit_threads(n):
    """Make TensorFlow (and OpenMP / oneDNN) in this process use n threads.

    TensorFlow reads TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS when a session
    first creates its CPU device, so this works after `import tensorflow` as long as no
    session has run yet in the process. train.train sets one thread per operation itself
    and leaves the size of its evaluation's inter-op pool to this choice.
    """
    for var in ('TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS', 'OMP_NUM_THREADS'):
        os.environ[var] = str(int(n))


def _job(exp, root, kwargs, threads=None):
    """Worker body (process pool or Ray task): summary of one experiment, never raises."""
    if threads is not None:
        limit_threads(threads)
    t0 = time.time()
    try:
        return run_experiment(exp, root, verbose=False, **kwargs)
    except Exception as exc:  # reported in the sweep summary; the other runs go on
        summary = _summary(exp, root, 'error', seconds=time.time() - t0,
                           error='{}: {}'.format(type(exc).__name__, exc))
        summary['traceback'] = traceback.format_exc()
        return summary


def _ray_job(exp, root, kwargs, threads=None):
    """_job as a Ray task: its summary also names the Ray node that ran it ('node', the
    node id in hex)."""
    import ray
    summary = _job(exp, root, kwargs, threads)
    summary['node'] = ray.get_runtime_context().get_node_id()
    return summary


def _init_pool_worker():
    # Ctrl-C (the terminal sends it to every process of the group) is handled by the
    # parent alone, which marks the unfinished runs and terminates the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # TensorFlow's start-up notices: kept off by tf_quiet (this module imports tools).


def run_many(experiments, root='data', jobs=1, ray_address=None, ray_cpus=1,
             verbose=True, **kwargs):
    """Run several experiments; return their summaries in the given order.

    experiments: list of Experiment.
    jobs: worker processes on this machine (1: in this process, one after another).
        Workers are started with the 'spawn' method (a TensorFlow graph and session
        belong to one process) and each limits TensorFlow to cpu_count() // jobs threads.
    ray_address: submit every experiment as a Ray task instead: 'local' starts a Ray
        instance on this machine; any other value is passed to ray.init(address=...)
        ('auto' = the cluster started with `ray start` on this machine, or
        'ray://host:10001'). If Ray is already initialised in this process it is used as
        is. Each task reserves ray_cpus CPUs and gives TensorFlow that many threads.
        On a multi-node cluster root must be on a file system every node sees.
    kwargs: passed to run_experiment (max_trials, hp_overrides, seed, display_step).
    Experiments whose folder already holds the finished run are reported, not started.
    Every folder is checked before anything is trained: one that train would refuse
    raises its error (tools.HpMismatchError, tools.CorruptFileError,
    tools.NotAModelFolderError, folder_lock.FolderLockedError for a folder another process
    trains) and nothing runs; a worker that finds its folder taken later reports the
    FolderLockedError in its summary. Ctrl-C ends the sweep: the run it cut
    short is reported 'interrupted', the ones not begun 'not started' (the worker
    processes or Ray tasks still running: 'interrupted').
    With verbose, prints progress and ends with one line per experiment and a total.
    """
    if jobs < 1:
        raise ValueError('jobs must be at least 1, got {}'.format(jobs))
    unknown = sorted(set(kwargs) - set(RUN_OPTIONS))
    if unknown:
        raise TypeError('Unknown option(s) {}; valid: {}'.format(unknown, RUN_OPTIONS))
    if ray_address is not None and jobs != 1:
        raise ValueError('Use either jobs (worker processes on this machine) or '
                         'ray_address (Ray tasks), not both')
    if ray_address is not None:
        # Ray workers may run elsewhere (or in another folder): give them absolute paths.
        root = os.path.abspath(root)
    t_start = time.time()
    summaries, pending = {}, []
    for exp in experiments:
        state, log = experiment_state(exp, root, kwargs.get('seed', 0),
                                      kwargs.get('hp_overrides'), kwargs.get('max_trials'))
        folder_lock.check_free(exp.model_dir(root))   # trained by another process now?
        if state in ('done', 'stopped'):
            summaries[exp.name] = _summary(exp, root, state, log, already=True)
        else:
            pending.append(exp)
    if verbose:
        for exp in experiments:
            if exp.name in summaries:
                print(_format_summary(summaries[exp.name]) + ' — skipped')
        if pending:
            how = ('in this process' if jobs == 1 and ray_address is None else
                   'on Ray ({})'.format(ray_address) if ray_address is not None else
                   'in {} worker processes'.format(min(jobs, len(pending))))
            print('Training {} experiment(s) {}: {}'.format(
                len(pending), how, ', '.join(e.name for e in pending)))
    if pending:
        if ray_address is not None:
            results = _run_ray(pending, root, ray_address, ray_cpus, kwargs, verbose)
        elif jobs > 1 and len(pending) > 1:
            results = _run_pool(pending, root, jobs, kwargs, verbose)
        else:
            results = _run_sequential(pending, root, kwargs, verbose)
        summaries.update(results)
    out = [summaries.get(e.name) or _summary(e, root, 'not started') for e in experiments]
    if verbose:
        print(format_summaries(out, time.time() - t_start))
    return out


def _run_sequential(experiments, root, kwargs, verbose):
    results = {}
    for i, exp in enumerate(experiments):
        if verbose:
            print('\n=== [{}/{}] {} → {}  ({}; {})'.format(
                i + 1, len(experiments), exp.name, exp.model_dir(root), exp.what,
                exp.ruleset))
        t0 = time.time()
        try:
            summary = run_experiment(exp, root, verbose=verbose, **kwargs)
        except Exception as exc:  # one broken configuration must not end the sweep
            summary = _summary(exp, root, 'error', seconds=time.time() - t0,
                               error='{}: {}'.format(type(exc).__name__, exc))
            if verbose:
                print('{} failed: {}'.format(exp.name, summary['error']))
        except KeyboardInterrupt:
            # train printed where this run stopped; the later ones stay 'not started'.
            results[exp.name] = _interrupted_summary(exp, root, kwargs)
            if verbose:
                print('Sweep interrupted; run the same command again to resume.')
            break
        results[exp.name] = summary
    return results


def _job_args(args):
    return _job(*args)


def _run_pool(experiments, root, jobs, kwargs, verbose):
    jobs = min(jobs, len(experiments))
    threads = max(1, cpu_count() // jobs)
    ctx = multiprocessing.get_context('spawn')
    results = {}
    bar = tqdm(total=len(experiments), unit='exp', disable=not verbose, desc='sweep')
    pool = ctx.Pool(jobs, initializer=_init_pool_worker)
    try:
        args = [(exp, root, kwargs, threads) for exp in experiments]
        # One task per experiment, reported as soon as it is finished.
        for summary in pool.imap_unordered(_job_args, args, chunksize=1):
            results[summary['name']] = summary
            bar.update(1)
            if verbose:
                bar.write(_format_summary(summary))
        pool.close()
    except KeyboardInterrupt:
        bar.write('Sweep interrupted; finished runs are kept, unfinished ones resume from '
                  'their last checkpoint when the command is run again.')
        _mark_interrupted(results, experiments, root, kwargs)
    finally:
        pool.terminate()
        pool.join()
        bar.close()
    return results


def _run_ray(experiments, root, address, cpus, kwargs, verbose):
    try:
        import ray
    except ImportError as exc:
        raise ImportError('--ray needs the ray package: pip install "ray>=2.9"') from exc
    started = False
    if not ray.is_initialized():
        # Worker output (TensorFlow start-up messages) stays in Ray's session logs; errors
        # come back in the summaries.
        opts = dict(logging_level=logging.WARNING, log_to_driver=False)
        if address == 'local':
            ray.init(address='local', include_dashboard=False, **opts)
        else:
            ray.init(address=address, runtime_env={
                'working_dir': REPO_DIR, 'excludes': RAY_EXCLUDES,
                'env_vars': {'TF_CPP_MIN_LOG_LEVEL': '1'}}, **opts)
        started = True
    results = {}
    refs = {}
    try:
        available = ray.cluster_resources().get('CPU', 0)
        if available < cpus:
            raise ValueError('Each Ray task asks for {} CPU(s) but the cluster has {}; use '
                             'a smaller --ray-cpus'.format(cpus, available))
        remote = ray.remote(num_cpus=cpus, max_retries=0)(_ray_job)
        refs = {remote.remote(exp, root, kwargs, cpus): exp for exp in experiments}
        bar = tqdm(total=len(refs), unit='exp', disable=not verbose, desc='sweep (ray)')
        waiting = list(refs)
        try:
            while waiting:
                ready, waiting = ray.wait(waiting, num_returns=1)
                exp = refs[ready[0]]
                try:
                    summary = ray.get(ready[0])
                except ray.exceptions.RayError as exc:  # the worker died, not the run
                    summary = _summary(exp, root, 'error', error='Ray: {}'.format(exc))
                results[exp.name] = summary
                bar.update(1)
                if verbose:
                    bar.write(_format_summary(summary))
        except KeyboardInterrupt:
            for ref in waiting:
                ray.cancel(ref, force=True)
            bar.write('Sweep interrupted; unfinished runs resume from their last checkpoint '
                      'when the command is run again.')
            _mark_interrupted(results, experiments, root, kwargs)
        finally:
            bar.close()
    finally:
        if started:
            ray.shutdown()
    return results


# ----------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------
def _status_text(s):
    text = {'done': 'done (target reached)', 'stopped': 'stopped (max trials)'}.get(
        s['status'], s['status'])
    if s['already']:
        text = 'already ' + text
    if s['error']:
        text += ': ' + s['error'].splitlines()[0]
    return text


def _format_summary(s):
    perf = '   -  ' if s['perf_min'] is None else '{:.3f}'.format(s['perf_min'])
    where = ' on node {}'.format(s['node'][:NODE_ID_CHARS]) if s.get('node') else ''
    return '{:<12s} trials {:>9d}  min perf {}  {:>7.1f} s  {}{}  [{}]'.format(
        s['name'], s['trials'], perf, s['seconds'], _status_text(s), where, s['model_dir'])


def format_summaries(summaries, seconds=None):
    """One line per experiment (trials, final min perf, status) and a total line."""
    lines = ['', 'Summary:'] + [_format_summary(s) for s in summaries]
    counts = {}
    for s in summaries:
        key = ('already ' if s['already'] else '') + s['status']
        counts[key] = counts.get(key, 0) + 1
    total = 'Total: {} experiment(s) — {}'.format(
        len(summaries), ', '.join('{} {}'.format(n, k) for k, n in counts.items()))
    if seconds is not None:
        total += ' — {:.1f} s'.format(seconds)
    lines.append(total)
    return '\n'.join(lines)


def parse_set(items):
    """hp overrides from ``KEY=VALUE`` strings; VALUE is read as JSON if it can be
    (16 → int, 1e-3 → float, true → True, "relu" or relu → str)."""
    out = {}
    for item in items or ():
        if '=' not in item:
            raise ValueError('--set expects KEY=VALUE, got {!r}'.format(item))
        key, value = item.split('=', 1)
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out

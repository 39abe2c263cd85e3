"""Analysis plans: a list of analysis calls, seen whole, then run in the fastest order.

    with AnalysisPlan(serial=False) as plan:
        stage_dict = print_basic_info(hp, log, model_dir, auto_range_select=True)  # runs now
        plot_PSTH(hp, log, model_dir, 'odr', 'stim1', trial_list)                   # recorded
        odrd_distractor_analysis(hp, log, model_dir, trial_list)                    # recorded
        ...
    # here every recorded call has run; plan.runner counts them, Deferred.value holds results

Inside the with-block an analysis call (a function decorated with analysis.blocks.block)
is recorded, not run, and returns a ``Deferred``; a Deferred given as an argument of a
later call (``PSTH_log=gen_PSTH_log(...)``) stands for that result. When the block ends,
the plan

1. adds up what the recorded calls will read (their ``needs``: neuron_info pickles, PSTH
   rows, location means, H — which rules at which checkpoints) and makes it in one pass
   over the checkpoints per model (``prepare_activity``: each checkpoint restored once,
   all its rules in one session call; pickles written, the rest kept in the session's
   memory);
2. on a machine with two cores or more, starts the 'behaviour' calls in a second process
   at once (they need nothing from the pass), and lets both processes take the 'shared'
   calls (decoding, dPCA) at the end, each by whichever is free first; both processes use
   one TensorFlow thread then;
3. runs the 'main' calls here in the order written, through its BlockRunner (a call whose
   data the model lacks is reported as skipped and the run goes on).

Every call draws its random trials from its own generator (analysis/blocks.py), so its
numbers are those of the same call made alone, in either process, in any order.
"""

import os

import numpy as np

import tools
from analysis import activity, blocks, cache, common, figsave, neuron_info, psth, session
from analysis.runner import BlockRunner, ParallelBlocks, block_label, count_new_figures


class Deferred(object):
    """The result of a call recorded by a plan: ``value`` once the plan has run."""

    def __init__(self, plan, index):
        self._plan = plan
        self.index = index

    @property
    def value(self):
        if not self._plan.finished:
            raise RuntimeError('{} is computed when the plan\'s with-block ends; use its '
                               'result after it'.format(self._plan.labels[self.index]))
        return self._plan.results.get(self.index)

    def __repr__(self):
        return '<result of {}>'.format(self._plan.labels[self.index])


class AnalysisPlan(object):
    """Records the analysis calls made in its with-block and runs them, planned, when it
    ends (see the module docstring).

    recompute: rewrite the neuron_info pickles the pass makes even if they exist.
    serial: run everything in this process, in the order written (behaviour calls after
        the others, shared ones last); default: a second process when there are two cores.
    figure_root: folder of the figures (the plan's own Session; figures of a model go to
        <figure_root>/figure_<model>/); default: that of the current session.
    verbose: progress bars, and a '== <block>' line before each block.
    runner: the BlockRunner to count blocks with (a new one by default; ``plan.runner``).
    """

    def __init__(self, recompute=False, serial=False, figure_root=None, verbose=True,
                 runner=None):
        self.recompute = recompute
        self.serial = serial or (os.cpu_count() or 1) < 2
        self.verbose = verbose
        # The plan's own session (caches, and one TensorFlow thread when it uses two
        # processes), with the figure folder and the list of damaged checkpoints of the
        # session it is made in: the caller sees where the figures went and what was
        # left out.
        outer = session.current()
        self.session = session.Session(figure_root=outer.figure_root if figure_root is None
                                       else figure_root)
        self.session.damaged = outer.damaged
        self.runner = BlockRunner(verbose=verbose) if runner is None else runner
        self.calls = []              # (fn, args, kwargs) in the order recorded
        self.labels = []
        self.results = {}            # index → result of a recorded call
        self.finished = False
        self._token = None

    # -- recording -----------------------------------------------------------------------
    def __enter__(self):
        self.session.__enter__()
        self._token = blocks._RECORDER.set(self)
        return self

    def __exit__(self, exc_type, exc, tb):
        blocks._RECORDER.reset(self._token)
        try:
            if exc_type is None:
                self.run()
        finally:
            self.session.__exit__(None, None, None)
        return False

    def record(self, fn, args, kwargs):
        """Add a call; returns the Deferred of its result."""
        self.calls.append((fn, tuple(args), dict(kwargs)))
        self.labels.append(block_label(fn, args, kwargs))
        return Deferred(self, len(self.calls) - 1)

    def run_now(self, fn, args, kwargs):
        """An 'eager' call: run at once through the runner (its result is an argument of
        the calls below it)."""
        token = blocks._RECORDER.set(None)
        try:
            return self.runner(fn, *args, **kwargs)
        finally:
            blocks._RECORDER.reset(token)

    # -- running -------------------------------------------------------------------------
    def needs(self):
        """blocks.Needs of the recorded 'main' and 'shared' calls (the latter may run
        here)."""
        need = blocks.Needs()
        for fn, args, kwargs in self.calls:
            spec = blocks.spec_of(fn)
            if spec is not None and spec.kind in ('main', 'shared'):
                need.add_call(spec, args, kwargs)
        return need

    def _kind(self, fn):
        spec = blocks.spec_of(fn)
        return 'main' if spec is None else spec.kind

    def _resolve(self, args, kwargs):
        def value(x):
            return self.results.get(x.index) if isinstance(x, Deferred) else x
        return tuple(value(a) for a in args), {k: value(v) for k, v in kwargs.items()}

    def run(self):
        """Run the recorded calls (see the module docstring); returns self.results."""
        order = {k: [i for i, (fn, _, _) in enumerate(self.calls) if self._kind(fn) == k]
                 for k in ('main', 'behaviour', 'shared')}
        need = self.needs()
        # A Deferred can only be resolved in this process: calls taking one stay here.
        movable = {i for k in ('behaviour', 'shared') for i in order[k]
                   if not any(isinstance(x, Deferred) for x in
                              list(self.calls[i][1]) + list(self.calls[i][2].values()))}
        for k in ('behaviour', 'shared'):
            order['main'] += [i for i in order[k] if i not in movable]
            order[k] = [i for i in order[k] if i in movable]
        parallel = (not self.serial and bool(order['main'])
                    and bool(order['behaviour'] or order['shared']))
        if parallel:
            self.session.threads = 1
        with figsave.in_background():
            other = None
            if parallel:
                other = ParallelBlocks([self.calls[i] for i in order['behaviour']],
                                       shared=[self.calls[i] for i in order['shared']],
                                       figure_root=self.session.figure_root)
            try:
                for key, rule_needs in need.by_model.items():
                    self.runner(prepare_activity, need.hp[key], need.paths[key], rule_needs,
                                recompute=self.recompute, verbose=self.verbose)
                for i in sorted(order['main']):
                    self._run_call(i)
                if other is None:
                    for i in order['behaviour'] + order['shared']:
                        self._run_call(i)
                else:
                    mine = other.run_shared(self.runner)
                    theirs = other.join(self.runner)
                    for i, result in zip(order['behaviour'], theirs['blocks']):
                        self.results[i] = result
                    for j, result in list(mine.items()) + list(theirs['shared'].items()):
                        self.results[order['shared'][j]] = result
            finally:
                if other is not None:
                    other.close()
        self.finished = True
        return self.results

    def summary(self, model_dir, since, seconds=None):
        """(number of figures written in model_dir's figure folder since ``since``, the
        closing lines: figures, blocks done and skipped, damaged checkpoints left out)."""
        n, root = count_new_figures(model_dir, since, self.session)
        return n, self.runner.summary(n, root, seconds, damaged=self.session.damaged)

    def _run_call(self, i):
        fn, args, kwargs = self.calls[i]
        args, kwargs = self._resolve(args, kwargs)
        self.results[i] = self.runner(fn, *args, **kwargs)


# ----------------------------------------------------------------------------------------
# The activity pass
# ----------------------------------------------------------------------------------------
def prepare_activity(hp, model_dir, rule_needs, recompute=False, verbose=True):
    """Compute, in one pass over checkpoints, what the blocks of a plan will read.

    rule_needs: {rule: {'neuron_info': {(trial, epoch)}, 'psth': {(trial, epoch, n_types,
    norm, oppo)}, 'means': {trial}, 'H': {trial}}} (blocks.Needs.by_model of one model).
    For every checkpoint where something is missing, H of the rules that need it comes
    from an existing pickle or is computed (the checkpoint restored once, its rules run in
    one session call) and is not written; from it: the missing neuron_info pickles are
    written (all of them with recompute), PSTH rows, location means and H go to the
    current session's caches. Returns {'checkpoints': n restored or read, 'neuron_info':
    n written}.
    """
    s = session.current()
    rules = [r for r in hp['rule_trains'] if r in rule_needs]
    task_info = activity.task_info_for(hp, model_dir, rules) if rules else {}
    work = {}          # trial → {rule: what to derive there}
    for rule in rules:
        entry = rule_needs[rule]
        by_trial = {}
        for t, e in entry['neuron_info']:
            by_trial.setdefault(t, {'epochs': set(), 'psth': set()})['epochs'].add(e)
        for t, e, n_types, norm, oppo in entry['psth']:
            by_trial.setdefault(t, {'epochs': set(), 'psth': set()})['psth'].add(
                (e, n_types, norm, oppo))
        for t in set(by_trial) | entry['means'] | entry['H']:
            wanted = by_trial.get(t, {'epochs': set(), 'psth': set()})
            todo = {'epochs': sorted(e for e in wanted['epochs'] if recompute or not
                                     os.path.isfile(common.neuron_info_path(model_dir, t, rule, e))),
                    'psth': sorted(wanted['psth']),
                    'means': t in entry['means'] and cache.h_key(model_dir, t, rule) not in s.means,
                    'H': t in entry['H'] and cache.h_key(model_dir, t, rule) not in s.H}
            if todo['psth'] and not todo['epochs']:
                # rows made by an earlier pass of this session are still valid
                todo['psth'] = [p for p in todo['psth'] if cache.psth_key(
                    model_dir, t, rule, p[0], p[1], p[2], p[3]) not in s.psth]
            if todo['epochs'] or todo['psth'] or todo['means'] or todo['H']:
                work.setdefault(t, {})[rule] = todo
    written = 0
    wanted = {t: sorted(by_rule, key=hp['rule_trains'].index) for t, by_rule in work.items()}
    for t, Hs in activity.iter_H(hp, model_dir, wanted, verbose=verbose, desc='activity',
                                 keep=False):
        for rule, H in Hs.items():
            todo, info = work[t][rule], task_info[rule]
            for epoch in todo['epochs']:
                tools.save_pickle(
                    neuron_info.neuron_info_from_H(H, info['in_loc'], info['epoch_info'], epoch,
                                                   in_loc_set=info['in_loc_set']),
                    common.neuron_info_path(model_dir, t, rule, epoch))
                written += 1
            if todo['psth'] or todo['means']:
                M = common.location_means(H, info['in_loc'], len(info['in_loc_set']))
                for epoch, n_types, norm, oppo in todo['psth']:
                    units, prefs = common.selected_units(
                        common.load_neuron_info(model_dir, t, rule, epoch), n_types)
                    s.psth.put(cache.psth_key(model_dir, t, rule, epoch, n_types, norm, oppo),
                               psth.psth_from_means(M, info, units, prefs, norm=norm,
                                                    oppo_sel_dir=oppo))
                if todo['means']:
                    s.means.put(cache.h_key(model_dir, t, rule), M)
            if todo['H']:
                s.H.put(cache.h_key(model_dir, t, rule), np.asarray(H))
    if verbose:
        print('prepare_activity: {} checkpoint(s), {} neuron_info pickle(s) written; H kept '
              'in memory only ({} MB of location means, {} MB of PSTH rows)'.format(
                  len(wanted), written, s.means.nbytes // cache.MB, s.psth.nbytes // cache.MB))
    return {'checkpoints': len(wanted), 'neuron_info': written}

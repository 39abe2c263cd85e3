"""Analysis functions as blocks: their own random draws, and what they read.

Every public analysis (plot_PSTH, odrd_distractor_analysis, ...) is decorated with
``@block(...)``. Called as usual — from a script, the notebook, a test — it runs at once,
with one difference from a plain function: it draws its random trials from a generator
of its own, seeded by the model's seed and the call's own arguments (``block_rng``), so
that its numbers never depend on which analyses ran before it, in which order or in which
process (the original drew every analysis from one hp['rng'] in turn: commenting out one
line changed the trials of every line after it; docs/DIFFERENCES.md).

Inside an analysis plan (``with AnalysisPlan(...)``, analysis/plan.py) a call is recorded
instead and returns a ``Deferred``; the plan sees the whole list before anything runs and
works out, from what each block declares here, what to compute once for all of them:

    kind      'main'       runs in the script's process, after the activity pass
              'behaviour'  needs nothing the others compute (it draws its own trials): may
                           run in a second process from the start
              'shared'     reads the model folder only (decoding, dPCA): run by whichever
                           process is free first
              'eager'      runs at once even in a plan (print_basic_info: its stage
                           selection is an argument of the lines below it)
    needs     needs(need, a): tells ``need`` (a Needs) what the call will read — neuron
              info, PSTH rows, location means or H of which rule at which checkpoints —
              from its arguments ``a`` (a namespace of the bound arguments, defaults
              filled in)

A need left out only costs time (the block computes what it lacks itself); the tests
check that the script's blocks find everything in memory.
"""

import contextvars
import functools
import hashlib
import inspect
import json
import os
import types

import numpy as np

import stages
import tools

KINDS = ('main', 'behaviour', 'shared', 'eager')

# The plan recording the calls of its with-block (None: calls run at once).
_RECORDER = contextvars.ContextVar('analysis_recorder', default=None)

# Arguments that say where the data is or how much to print, not what is computed: left
# out of a block's random seed (a model copied to another folder draws the same trials).
_NOT_IN_SEED = frozenset(('hp', 'log', 'model_dir', 'verbose', 'plot', 'chunk_size'))


class BlockSpec(object):
    """What the decorator knows of an analysis function."""

    def __init__(self, fn, kind, needs):
        if kind not in KINDS:
            raise ValueError('kind must be one of {}, got {!r}'.format(KINDS, kind))
        self.fn = fn
        self.kind = kind
        self.needs = needs
        self.signature = inspect.signature(fn)
        self.name = fn.__name__

    def bind(self, args, kwargs):
        """The call's arguments by name, defaults filled in (TypeError as for a bad call)."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return bound


def block(kind='main', needs=None):
    """Decorator making an analysis function a block (see the module docstring)."""
    def decorate(fn):
        spec = BlockSpec(fn, kind, needs)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            recorder = _RECORDER.get()
            if recorder is None:
                return call(spec, args, kwargs)
            if spec.kind == 'eager':
                return recorder.run_now(wrapper, args, kwargs)
            return recorder.record(wrapper, args, kwargs)

        wrapper.block = spec
        return wrapper
    return decorate


def spec_of(fn):
    """The BlockSpec of a decorated analysis, None for any other callable."""
    return getattr(fn, 'block', None)


def call(spec, args, kwargs):
    """Run an analysis now: with hp['rng'] replaced (in a copy of hp) by block_rng's
    generator, and no recording for the analyses it calls itself."""
    bound = spec.bind(args, kwargs)
    hp = bound.arguments.get('hp')
    if isinstance(hp, dict) and 'seed' in hp:
        bound.arguments['hp'] = dict(hp, rng=block_rng(hp, spec, bound))
    token = _RECORDER.set(None)
    try:
        return spec.fn(*bound.args, **bound.kwargs)
    finally:
        _RECORDER.reset(token)


def _canonical(value):
    """A JSON-able form of an argument in which equal trial lists look the same (a range
    and the list of its values, a tuple and a list, numpy and Python numbers)."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (range, list, tuple, np.ndarray)):
        return [_canonical(v) for v in (value.tolist() if isinstance(value, np.ndarray)
                                        else value)]
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if value is None or isinstance(value, str):
        return value
    return repr(value)


def block_seed(hp, name, arguments):
    """uint32 seed words of a block: the model's seed and a SHA-256 digest of the block's
    name and arguments (those of _NOT_IN_SEED left out)."""
    key = [name, {k: _canonical(v) for k, v in arguments.items() if k not in _NOT_IN_SEED}]
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode('utf-8')).digest()
    words = np.frombuffer(digest[:16], dtype='<u4')
    return np.concatenate([[int(hp.get('seed', 0)) % 2 ** 32], words]).astype(np.uint32)


def block_rng(hp, spec, bound):
    """numpy RandomState of one call of a block (block_seed of its bound arguments)."""
    return np.random.RandomState(block_seed(hp, spec.name, bound.arguments))


# ----------------------------------------------------------------------------------------
# What blocks read: the activity pass's plan
# ----------------------------------------------------------------------------------------
class Needs(object):
    """What the recorded blocks will read, per model folder and rule: collected from the
    blocks' needs(need, a) and turned by the plan into one pass over checkpoints.

    ``by_model[key][rule]`` (key: the model folder's absolute path; ``paths[key]`` the
    folder as given, ``hp[key]`` its hp) holds sets of
        'neuron_info'  (trial, epoch)                       pickles to have on disk
        'psth'         (trial, epoch, n_types, norm, oppo)  PSTH rows to keep in memory
        'means'        trial                                location means to keep
        'H'            trial                                H to keep
    Trials are those of the trial list (expanded for the rule) that the model's log holds;
    rules the model was not trained on, and lists the stage dict lacks, add nothing (the
    block says why when it runs).
    """

    def __init__(self):
        self.by_model = {}
        self.hp = {}
        self.paths = {}          # key → the model folder as the first block named it
        self._logs = {}
        self._known = {}         # key → set of the log's checkpoints

    def set_model(self, model_dir, hp=None, log=None):
        """Record the hp and log a model's blocks were given (else read from the folder)."""
        key = os.path.abspath(model_dir)
        self.paths.setdefault(key, model_dir)
        if hp is not None and key not in self.hp:
            self.hp[key] = hp
        if log is not None and key not in self._logs:
            self._logs[key] = log

    def _entry(self, model_dir, rule):
        key = os.path.abspath(model_dir)
        self.paths.setdefault(key, model_dir)
        if key not in self.hp:
            self.hp[key] = tools.load_hp(model_dir)
        if rule not in self.hp[key]['rule_trains']:
            return None
        return self.by_model.setdefault(key, {}).setdefault(
            rule, {'neuron_info': set(), 'psth': set(), 'means': set(), 'H': set()})

    def trials(self, model_dir, trial_list, rule):
        """Checkpoints of trial_list for rule (a rule or a tuple of rules for a stage
        dict) that the model's log holds; [] if the stage dict lacks the rule."""
        key = os.path.abspath(model_dir)
        if key not in self._logs:
            self._logs[key] = tools.load_log(model_dir)
        if key not in self._known:
            self._known[key] = {int(t) for t in self._logs[key]['trials']}
        known = self._known[key]
        try:
            return [t for t in stages.expand_trial_list(trial_list, rule) if t in known]
        except stages.DataUnavailable:
            return []

    def neuron_info(self, model_dir, rule, epochs, trial_list, trials_of=None):
        """neuron_info_<rule>_<epoch>.pkl for each epoch at the checkpoints of trial_list
        (those of rule, or of the rules trials_of for a stage dict)."""
        entry = self._entry(model_dir, rule)
        if entry is None:
            return
        for t in self.trials(model_dir, trial_list, trials_of or rule):
            entry['neuron_info'].update((t, e) for e in _names(epochs))

    def psth(self, model_dir, rule, epoch, trial_list, n_types, norm=True, oppo=False):
        """PSTH rows of the units of n_types selective in epoch (and their pickles)."""
        entry = self._entry(model_dir, rule)
        if entry is None:
            return
        n_types = (n_types,) if isinstance(n_types, str) else tuple(n_types)
        for t in self.trials(model_dir, trial_list, rule):
            entry['neuron_info'].add((t, epoch))
            entry['psth'].add((t, epoch, n_types, bool(norm), bool(oppo)))

    def means(self, model_dir, rule, trial_list):
        entry = self._entry(model_dir, rule)
        if entry is not None:
            entry['means'].update(self.trials(model_dir, trial_list, rule))

    def H(self, model_dir, rule, trial_list):
        entry = self._entry(model_dir, rule)
        if entry is not None:
            entry['H'].update(self.trials(model_dir, trial_list, rule))

    def add_call(self, spec, args, kwargs):
        """Add what one recorded call of a block will read (nothing for a bad call: it
        fails with its own error when run)."""
        if spec.needs is None:
            return
        try:
            bound = spec.bind(args, kwargs)
        except TypeError:
            return
        a = types.SimpleNamespace(**bound.arguments)
        if getattr(a, 'model_dir', None) is not None:
            self.set_model(a.model_dir, getattr(a, 'hp', None), getattr(a, 'log', None))
        spec.needs(self, a)


def _names(x):
    return [x] if isinstance(x, str) else list(x)

"""Saccade tasks of the RNN_BrainMaturation suite: rulesets, input/target encoding, trials.

Every array is time-major: x (T, B, n_input), y (T, B, n_output), y_loc (T, B), with T in
time steps of hp['dt'] ms and B trials. Task timings are written in ms (TIMING_MS) and turned
into steps here; every "step" argument below is an index into the time axis.

Input units: 0 = fixation point, 1..n_eachring = the ring of direction-tuned units, then one
unit per rule of the ruleset (from hp['rule_start']).
Output units: 0 = fixation, 1..n_eachring = the response ring.
"""

import numpy as np

import tools


# --- rulesets --------------------------------------------------------------------------

_SIX_TASKS = ['overlap', 'zero_gap', 'gap', 'odr', 'odrd', 'gap500']
_MON = ['match_or_non', 'match_or_non_easy']


def _with_odr_delay(rules, odr_rule):
    return [odr_rule if rule == 'odr' else rule for rule in rules]


# The position of a rule in its ruleset fixes which input unit signals that rule, so the
# order of every list is part of the trained models' input format.
rules_dict = {
    'all_new': list(_SIX_TASKS),
    'ozg': ['overlap', 'zero_gap', 'gap'],
    'odr_delay_check': ['odr500', 'odr750', 'odr1000', 'odr1100', 'odr1200', 'odr1300',
                        'odr1400', 'odr'],
    'all_new_odr3000': _with_odr_delay(_SIX_TASKS, 'odr3000'),
    'all_new_odr6000': _with_odr_delay(_SIX_TASKS, 'odr6000'),
    'all_new_odr15000': _with_odr_delay(_SIX_TASKS, 'odr15000'),
    'MoN': list(_MON),
    'mix_MoN_6tasks': _MON + _SIX_TASKS,
    'mix_p_MoN_6tasks': _MON + ['match_or_non_passive'] + _SIX_TASKS,
    'seq_train_test': ['odr500', 'odrd', 'overlap', 'zero_gap', 'gap'],
}


# --- timing table (ms) -------------------------------------------------------------------

# ODR delay (cue offset to fixation offset) of every ODR rule.
ODR_DELAY_MS = {'odr500': 500, 'odr750': 750, 'odr1000': 1000, 'odr1100': 1100,
                'odr1200': 1200, 'odr1300': 1300, 'odr1400': 1400, 'odr': 1500,
                'odr3000': 3000, 'odr6000': 6000, 'odr15000': 15000}

_MATCH_OR_NON_MS = {'fix': 1000, 'stim1': 500, 'delay1': 500, 'stim2': 500, 'delay2': 500,
                    'go': 500}

# Memory tasks (ODR, ODR with distractor, match-or-non-match) list consecutive phases in
# order; each phase is converted to steps on its own (int(ms/dt)) and the steps are summed,
# as the original suite did: the result differs from int(onset_ms/dt) only when dt does not
# divide the durations, and then it keeps trials identical to the original's.
# Anti-saccade tasks: after 'fix' ms the fixation point goes off 'overlap' ms later and the
# cue comes on 'gap' ms later (overlap: the fixation point stays during the 100 ms cue;
# zero gap: both at once; gap: the screen is blank for 'gap' ms); the cue lasts 'cue' ms and
# the trial ends 'go' ms after the cue offset.
TIMING_MS = {
    **{rule: {'fix': 1000, 'cue': 500, 'delay': delay, 'go': 500}
       for rule, delay in ODR_DELAY_MS.items()},
    'odrd': {'fix': 1000, 'cue': 500, 'delay1': 500, 'distractor': 500, 'delay2': 500,
             'go': 500},
    'overlap': {'fix': 1000, 'overlap': 100, 'gap': 0, 'cue': 100, 'go': 500},
    'zero_gap': {'fix': 1000, 'overlap': 0, 'gap': 0, 'cue': 100, 'go': 500},
    'gap': {'fix': 1000, 'overlap': 0, 'gap': 100, 'cue': 100, 'go': 500},
    'gap500': {'fix': 1000, 'overlap': 0, 'gap': 500, 'cue': 100, 'go': 500},
    'match_or_non': dict(_MATCH_OR_NON_MS),
    'match_or_non_easy': dict(_MATCH_OR_NON_MS),
    'match_or_non_passive': dict(_MATCH_OR_NON_MS),
}

# The response is checked only from this long after its onset (saccade latency).
RESPONSE_CHECK_DELAY_MS = 100
# The first 100 ms of every trial are never scored (the network settles from h = 0).
COST_START_MS = 100
# 'test' mode: consecutive trials per ring location.
TEST_TRIALS_PER_LOC = 16
# 'test-a-b' mode (odrd): default number of trials (the original always used 128).
TEST_A_B_BATCH_SIZE = 128

_MODES = ('random', 'test')
_ODRD_MODES = ('random', 'test', 'test-a-b')


# --- rule helpers --------------------------------------------------------------------------

def _valid_ruleset(ruleset):
    if ruleset not in rules_dict:
        raise ValueError('unknown ruleset %r; valid rulesets: %s'
                         % (ruleset, sorted(rules_dict)))
    return rules_dict[ruleset]


def get_num_rule(ruleset):
    """Number of rules (and of rule input units) of a ruleset."""
    return len(_valid_ruleset(ruleset))


def get_rule_index(rule, config):
    """Input unit (index into the last axis of x) that signals `rule` under config['ruleset']."""
    rules = _valid_ruleset(config['ruleset'])
    if rule not in rules:
        raise ValueError('rule %r is not in ruleset %r; valid rules: %s'
                         % (rule, config['ruleset'], sorted(rules)))
    return config['rule_start'] + rules.index(rule)


def get_dist(original_dist):
    """Circular distance (rad, in [0, pi]) of angle differences, elementwise."""
    return np.minimum(np.abs(original_dist), 2 * np.pi - np.abs(original_dist))


# --- trials --------------------------------------------------------------------------------

def _feedable_zeros(shape, dtype):
    """Zeros that TensorFlow feeds without a copy (tools.aligned_empty)."""
    out = tools.aligned_empty(shape, dtype)
    out.fill(0)
    return out


class Trial(object):
    """A batch of B trials of one task, time-major.

    Attributes:
        x: float32 (T, B, n_input), network input.
        y: float32 (T, B, n_output), target output; 0.05 everywhere to start with for the
            'lsq' loss (the sigmoid output never reaches 0), else 0.
        y_loc: float32 (T, B), response angle (rad) from response onset, -1 while fixating.
        c_mask: cost mask set by add_c_mask: float32 (T*B, n_output) for 'lsq', else (T*B,).
        epochs: {name: (start_step, end_step)}, None for an open end.
        input_loc, distract_loc, output_loc: one (n_eachring,) float64 pattern per trial for
            every stimulus / distractor / response added, in the order they were added.
        pref: (n_eachring,) preferred directions (rad) of the ring units.
        dt (ms per step), n_eachring, batch_size (B), tdim (T).
    """

    _LOC_TYPES = ('fix_in', 'stim', 'distract', 'choice', 'fix_out', 'out')

    def __init__(self, config, tdim, batch_size):
        """config: the hp dict; tdim: T in steps; batch_size: B."""
        self.float_type = 'float32'
        self.config = config
        self.dt = config['dt']
        self.n_eachring = config['n_eachring']
        self.n_input = config['n_input']
        self.n_output = config['n_output']
        self.pref = np.arange(0, 2 * np.pi, 2 * np.pi / self.n_eachring)
        self.batch_size = batch_size
        self.tdim = tdim

        self.x = _feedable_zeros((tdim, batch_size, self.n_input), self.float_type)
        self.y = _feedable_zeros((tdim, batch_size, self.n_output), self.float_type)
        if config['loss_type'] == 'lsq':
            self.y[:] = 0.05
        self.y_loc = -np.ones((tdim, batch_size), dtype=self.float_type)
        self.c_mask = None
        self.epochs = {}
        self.input_loc = []
        self.distract_loc = []
        self.output_loc = []
        # Scaled so that the noise matches a continuous-time white noise of std sigma_x
        # after the leaky integration with alpha = dt/tau.
        self._sigma_x = config['sigma_x'] * np.sqrt(2 / config['alpha'])

    def expand(self, var):
        """A scalar (or None) becomes a list of B copies; sequences pass through."""
        if not hasattr(var, '__iter__'):
            var = [var] * self.batch_size
        return var

    def _groups(self, *per_trial):
        """{parameters: trials} for trials sharing the same per-trial parameters.

        One numpy write then covers a whole group. Within one add() every array element
        is written at most once, so this gives the same float32 values as writing the
        trials one by one.
        """
        groups = {}
        for i, key in enumerate(zip(*per_trial)):
            groups.setdefault(key, []).append(i)
        if len(groups) == 1:
            return {key: slice(None) for key in groups}
        return {key: np.asarray(trials) for key, trials in groups.items()}

    def _ring_units(self, mod):
        """Input units of ring number `mod` (1-based; None = the first ring)."""
        mod = 1 if mod is None else mod
        return slice(1 + (mod - 1) * self.n_eachring, 1 + mod * self.n_eachring)

    def _bump(self, loc):
        """Gaussian tuning curve (n_eachring,) float64 of peak 0.8 and width pi/8 at `loc`."""
        dist = get_dist(loc - self.pref) / (np.pi / 8)
        return 0.8 * np.exp(-dist ** 2 / 2)

    def _one_hot(self, loc):
        """(n_eachring,) float64: 1 at the preferred direction nearest `loc`."""
        pattern = np.zeros(self.n_eachring)
        pattern[np.argmin(get_dist(loc - self.pref))] = 1.
        return pattern

    def add_x_loc(self, x_loc):
        """Ring input pattern (n_eachring,) for a stimulus at angle x_loc (rad)."""
        if self.config.get('in_loc_type') == 'one_hot':
            return self._one_hot(x_loc)
        return self._bump(x_loc)

    def add_y_loc(self, y_loc):
        """Ring target pattern (n_eachring,) for a response at angle y_loc (rad)."""
        if self.config['loss_type'] == 'lsq':
            return self._bump(y_loc)
        return self._one_hot(y_loc)

    def add(self, loc_type, locs=None, ons=None, offs=None, strengths=1, mods=None):
        """Add an input or a target to every trial, over steps [ons[i], offs[i]).

        Args:
            loc_type: 'fix_in' (fixation input 1), 'stim' / 'distract' (ring input pattern
                of locs[i] added, recorded in input_loc / distract_loc), 'choice' (sum of
                the patterns of the angles in the tuple locs[i] added; not recorded),
                'fix_out' (fixation target 0.8 for 'lsq', else 1), 'out' (response pattern
                added to the ring targets, y_loc set to locs[i], recorded in output_loc).
            locs: (B,) angles in rad (for 'choice': B tuples of angles).
            ons, offs: step or (B,) steps; None = start / end of the trial.
            strengths: scalar or (B,) multipliers of the added pattern.
            mods: ring number (1-based) of stimuli, scalar or (B,); None = ring 1.
        """
        if loc_type not in self._LOC_TYPES:
            raise ValueError('unknown loc_type %r; valid: %s'
                             % (loc_type, sorted(self._LOC_TYPES)))
        ons, offs = self.expand(ons), self.expand(offs)
        strengths = np.asarray(self.expand(strengths))
        mods = self.expand(mods)
        lsq = self.config['loss_type'] == 'lsq'

        if loc_type == 'fix_in':
            for (on, off), trials in self._groups(ons, offs).items():
                self.x[on:off, trials, 0] = 1
        elif loc_type == 'fix_out':
            for (on, off), trials in self._groups(ons, offs).items():
                # 0.8 rather than 1: the output is a sigmoid that saturates at 1.
                self.y[on:off, trials, 0] = 0.8 if lsq else 1.0
        elif loc_type in ('stim', 'distract', 'choice'):
            if loc_type == 'choice':
                # Python's sum adds the targets one after the other, as the original did.
                patterns = np.array([sum(self.add_x_loc(loc) for loc in choice)
                                     for choice in locs])
            else:
                patterns = np.array([self.add_x_loc(loc) for loc in locs])
            for (on, off, mod), trials in self._groups(ons, offs, mods).items():
                self.x[on:off, trials, self._ring_units(mod)] += (
                    patterns[trials] * strengths[trials, None])
            if loc_type == 'stim':
                self.input_loc.extend(patterns)
            elif loc_type == 'distract':
                self.distract_loc.extend(patterns)
        else:  # 'out'
            locs = np.asarray(locs)
            patterns = np.array([self.add_y_loc(loc) for loc in locs])
            self.output_loc.extend(patterns.copy())
            if lsq:
                values = patterns * strengths[:, None]
            else:
                values = patterns / patterns.sum(axis=1, keepdims=True)
            for (on, off), trials in self._groups(ons, offs).items():
                self.y[on:off, trials, 1:] += values[trials]
                self.y_loc[on:off, trials] = locs[trials]

    def add_x_noise(self):
        """Add Gaussian input noise to x, drawn from config['rng'] (one randn call)."""
        self.x += self.config['rng'].randn(*self.x.shape) * self._sigma_x

    def add_c_mask(self, pre_offs, post_ons, passive=False):
        """Set the cost mask.

        Weight 1 from COST_START_MS to pre_offs (steps; the fixation period), 5 from post_ons
        (steps) to the end (0 if passive: nothing is asked of the subject then), 0 elsewhere;
        the fixation output counts double. 'lsq': (T*B, n_output); otherwise (T*B,)
        normalised to mean 1.
        """
        pre_on = int(COST_START_MS / self.dt)
        post_value = 0. if passive else 5.
        lsq = self.config['loss_type'] == 'lsq'
        shape = (self.tdim, self.batch_size) + ((self.n_output,) if lsq else ())
        c_mask = _feedable_zeros(shape, self.float_type)
        for (pre_off, post_on), trials in self._groups(self.expand(pre_offs),
                                                       self.expand(post_ons)).items():
            # The response period is short; weighting it more keeps it from being
            # swamped by the long fixation period.
            c_mask[post_on:, trials] = post_value
            c_mask[pre_on:pre_off, trials] = 1.
        if lsq:
            c_mask[:, :, 0] *= 2.  # breaking fixation is the costliest error
            self.c_mask = c_mask.reshape((self.tdim * self.batch_size, self.n_output))
        else:
            self.c_mask = c_mask.reshape((self.tdim * self.batch_size,))
            self.c_mask /= self.c_mask.mean()

    def add_rule(self, rule, on=None, off=None, strength=1.):
        """Set the rule input unit to `strength` over steps [on, off) of every trial.

        rule: a rule name of config['ruleset'], or an int offset from config['rule_start'].
        """
        if isinstance(rule, (int, np.integer)):
            unit = self.config['rule_start'] + rule
        else:
            unit = get_rule_index(rule, self.config)
        self.x[on:off, :, unit] = strength


# --- task builders -------------------------------------------------------------------------

def _check_mode(rule, mode, valid_modes):
    if mode not in valid_modes:
        raise ValueError('unknown mode %r for rule %r; valid modes: %s'
                         % (mode, rule, sorted(valid_modes)))


def _cue_locations(config, mode, kwargs):
    """Cue angles (B,) in rad, float64.

    'random': B = kwargs['batch_size'] angles uniform in [0, 2 pi) from config['rng'].
    'test': TEST_TRIALS_PER_LOC consecutive trials at each preferred direction in turn.
    """
    n_eachring = config['n_eachring']
    if mode == 'random':
        if 'batch_size' not in kwargs:
            raise ValueError("mode 'random' needs the batch_size keyword argument")
        return config['rng'].rand(int(kwargs['batch_size'])) * 2 * np.pi
    loc_index = np.arange(n_eachring * TEST_TRIALS_PER_LOC) // TEST_TRIALS_PER_LOC
    return 2 * np.pi * loc_index / n_eachring


def _phase_ends(dt, timing_ms):
    """{phase: step at which it ends} for consecutive phases of the given durations (ms)."""
    ends, step = {}, 0
    for phase, duration_ms in timing_ms.items():
        step += int(duration_ms / dt)
        ends[phase] = step
    return ends


def _add_fixation_and_response(trial, fix_off, response_on, response_locs, passive=False):
    """Fixation, response targets and cost mask shared by every task.

    The fixation input is on until step fix_off; the fixation target and y_loc = -1 hold
    until step response_on, then the ring targets point at response_locs (rad, (B,)).
    Pre-response cost up to response_on, response cost from RESPONSE_CHECK_DELAY_MS later.

    passive: the fixation point never goes off and no saccade is asked for, so the
    fixation input and target stay on and y_loc stays -1 to the end (no 'out' added,
    output_loc stays empty); the post-response cost is 0, so these targets are never
    trained on, but get_perf scores a passive trial as correct when the network keeps
    fixating, which is what a passive-viewing subject does.
    """
    check_on = response_on + int(RESPONSE_CHECK_DELAY_MS / trial.dt)
    if passive:
        trial.add('fix_in')
        trial.add('fix_out')
    else:
        trial.add('fix_in', offs=fix_off)
        trial.add('fix_out', offs=response_on)
        trial.add('out', response_locs, ons=response_on)
    trial.add_c_mask(pre_offs=response_on, post_ons=check_on, passive=passive)


def _odr_task(rule):
    """Task function of an oculomotor delayed response rule (delay from TIMING_MS[rule]).

    Cue at a random/test angle, a memory delay, then a saccade to the remembered cue once
    the fixation point goes off.
    """
    timing = TIMING_MS[rule]

    def task(config, mode, **kwargs):
        _check_mode(rule, mode, _MODES)
        cue_locs = _cue_locations(config, mode, kwargs)
        ends = _phase_ends(config['dt'], timing)
        cue_on, cue_off, fix_off = ends['fix'], ends['cue'], ends['delay']

        trial = Trial(config, ends['go'], len(cue_locs))
        trial.add('stim', cue_locs, ons=cue_on, offs=cue_off)
        _add_fixation_and_response(trial, fix_off, fix_off, cue_locs)
        trial.epochs = {'fix1': (None, cue_on),
                        'stim1': (cue_on, cue_off),
                        'delay1': (cue_off, fix_off),
                        'go1': (fix_off, None)}
        return trial

    task.__name__ = task.__qualname__ = rule
    return task


def _test_a_b_locations(mode, kwargs, n_eachring):
    """(a, b) location indices of a 'test-a-b' request.

    Either mode 'test-a-b' with kwargs a and b, or the original suite's form with the
    indices in the mode string, e.g. 'test-2-6'.
    """
    if mode == 'test-a-b':
        if 'a' not in kwargs or 'b' not in kwargs:
            raise ValueError("mode 'test-a-b' needs the keyword arguments a (cue location "
                             "index) and b (distractor location index)")
        a, b = kwargs['a'], kwargs['b']
    else:
        a, b = mode.split('-')[1:]
    a, b = int(a), int(b)
    for name, index in (('a', a), ('b', b)):
        if not 0 <= index < n_eachring:
            raise ValueError('%s = %d is not a location index in [0, %d)'
                             % (name, index, n_eachring))
    return a, b


def _is_test_a_b_string(mode):
    parts = mode.split('-') if isinstance(mode, str) else []
    return len(parts) == 3 and parts[0] == 'test' and all(p.isdigit() for p in parts[1:])


def odrd(config, mode, **kwargs):
    """ODR with a distractor: a second, irrelevant stimulus during the delay.

    Modes: 'random' (one distractor offset, a whole multiple of the ring spacing, drawn
    for the whole batch after the cue angles), 'test' (distractor opposite the cue),
    'test-a-b' (every trial: cue at location index a, distractor at b; kwargs a, b and
    batch_size, default TEST_A_B_BATCH_SIZE; the original's 'test-<a>-<b>' strings work
    too).
    """
    n_eachring = config['n_eachring']
    if mode == 'test-a-b' or _is_test_a_b_string(mode):
        a, b = _test_a_b_locations(mode, kwargs, n_eachring)
        batch_size = int(kwargs.get('batch_size', TEST_A_B_BATCH_SIZE))
        cue_locs = np.full(batch_size, 2 * np.pi * a / n_eachring)
        distract_locs = np.full(batch_size, 2 * np.pi * b / n_eachring)
    else:
        _check_mode('odrd', mode, _ODRD_MODES)
        cue_locs = _cue_locations(config, mode, kwargs)
        if mode == 'random':
            offset = config['rng'].choice(np.arange(1, n_eachring))
            distract_locs = (cue_locs + offset * (2 * np.pi / n_eachring)) % (2 * np.pi)
        else:
            distract_locs = (cue_locs + np.pi) % (2 * np.pi)

    ends = _phase_ends(config['dt'], TIMING_MS['odrd'])
    cue_on, cue_off = ends['fix'], ends['cue']
    distract_on, distract_off, fix_off = ends['delay1'], ends['distractor'], ends['delay2']

    trial = Trial(config, ends['go'], len(cue_locs))
    trial.add('stim', cue_locs, ons=cue_on, offs=cue_off)
    trial.add('distract', distract_locs, ons=distract_on, offs=distract_off)
    _add_fixation_and_response(trial, fix_off, fix_off, cue_locs)
    trial.epochs = {'fix1': (None, cue_on),
                    'stim1': (cue_on, cue_off),
                    'delay1': (cue_off, distract_on),
                    'distract1': (distract_on, distract_off),
                    'delay2': (distract_off, fix_off),
                    'go1': (fix_off, None)}
    return trial


def _anti_saccade_task(rule):
    """Task function of an anti-saccade rule (overlap, zero gap or gap; TIMING_MS[rule]).

    Saccade to the angle opposite the cue, as soon as the fixation point is off and the cue
    has appeared.
    """
    timing = TIMING_MS[rule]

    def task(config, mode, **kwargs):
        _check_mode(rule, mode, _MODES)
        cue_locs = _cue_locations(config, mode, kwargs)
        dt = config['dt']
        first_change = int(timing['fix'] / dt)
        fix_off = first_change + int(timing['overlap'] / dt)
        cue_on = first_change + int(timing['gap'] / dt)
        cue_off = cue_on + int(timing['cue'] / dt)
        response_on = max(fix_off, cue_on)

        trial = Trial(config, cue_off + int(timing['go'] / dt), len(cue_locs))
        trial.add('stim', cue_locs, ons=cue_on, offs=cue_off)
        # In gap tasks the fixation target outlasts the fixation input: the subject must
        # hold fixation on the blank screen until the cue appears.
        _add_fixation_and_response(trial, fix_off, response_on,
                                   (cue_locs + np.pi) % (2 * np.pi))
        trial.epochs = {'fix1': (None, min(fix_off, cue_on))}
        if cue_on > fix_off:
            trial.epochs['delay1'] = (fix_off, cue_on)
        trial.epochs['stim1'] = (cue_on, cue_off)
        trial.epochs['go1'] = (response_on, None)
        return trial

    task.__name__ = task.__qualname__ = rule
    return task


# Match-or-non-match variants. 'hard': the two choice targets sit at pi/4 & 5pi/4 or at
# 7pi/4 & 3pi/4 (which one means "match" is drawn per trial); 'easy': match target at 0,
# non-match target at pi; 'passive': the hard display, viewed without responding.
MATCH_OR_NON_VARIANT = {'match_or_non': 'hard',
                        'match_or_non_easy': 'easy',
                        'match_or_non_passive': 'passive'}

# Test mode: consecutive blocks of this many trials alternate match / non-match.
_MON_TEST_FLAG_BLOCK = 8


def _match_or_non_task(rule):
    """Task function of a match-or-non-match rule (variant MATCH_OR_NON_VARIANT[rule]).

    Cue (stim1), delay, sample (stim2) at the cue (match) or elsewhere (non-match), delay,
    then two choice targets appear as the fixation point goes off and the subject saccades
    to the one meaning "match" or "non-match". Response angles: easy, flag*pi; hard,
    |flag - layout|*pi, i.e. 0 for the upper target (pi/4 or 7pi/4) and pi for the lower
    one.

    Draws from config['rng'] in 'random' mode: cue angles rand(B)*2pi, non-match flags
    randint(0, 2, B), one non-match offset randint(1, n_eachring) ring spacings for the
    whole batch, then the target layouts randint(0, 2, B). 'test' mode draws the layouts
    only (flags alternate every 8 trials, non-match offset pi). The layouts are drawn for
    every variant, so the stream of draws does not depend on the variant. (The original
    drew the layouts from numpy's global generator, breaking reproducibility.)
    """
    variant = MATCH_OR_NON_VARIANT[rule]
    timing = TIMING_MS[rule]

    def task(config, mode, **kwargs):
        _check_mode(rule, mode, _MODES)
        n_eachring = config['n_eachring']
        rng = config['rng']
        cue_locs = _cue_locations(config, mode, kwargs)
        batch_size = len(cue_locs)
        if mode == 'random':
            non_match = rng.randint(0, 2, batch_size)
            offset = rng.randint(1, n_eachring) * (2 * np.pi / n_eachring)
        else:
            non_match = (np.arange(batch_size) // _MON_TEST_FLAG_BLOCK) % 2
            offset = np.pi
        sample_locs = (cue_locs + offset * non_match) % (2 * np.pi)
        layout = rng.randint(0, 2, batch_size)

        if variant == 'easy':
            upper = np.zeros(batch_size)
            lower = np.full(batch_size, np.pi)
            response_locs = non_match * np.pi
        else:
            upper = layout * 3 / 2 * np.pi + 1 / 4 * np.pi
            lower = (upper + np.pi) % (2 * np.pi)
            response_locs = np.abs(non_match - layout) * np.pi

        ends = _phase_ends(config['dt'], timing)
        stim1_on, stim1_off = ends['fix'], ends['stim1']
        stim2_on, stim2_off, fix_off = ends['delay1'], ends['stim2'], ends['delay2']

        trial = Trial(config, ends['go'], batch_size)
        trial.add('stim', cue_locs, ons=stim1_on, offs=stim1_off)
        trial.add('stim', sample_locs, ons=stim2_on, offs=stim2_off)
        trial.add('choice', list(zip(upper, lower)), ons=fix_off)
        _add_fixation_and_response(trial, fix_off, fix_off, response_locs,
                                   passive=variant == 'passive')
        trial.epochs = {'fix1': (None, stim1_on),
                        'stim1': (stim1_on, stim1_off),
                        'delay1': (stim1_off, stim2_on),
                        'stim2': (stim2_on, stim2_off),
                        'delay2': (stim2_off, fix_off),
                        'go1': (fix_off, None)}  # the choice targets show from here on
        return trial

    task.__name__ = task.__qualname__ = rule
    return task


# rule name -> task function f(config, mode, **kwargs) -> Trial (without rule input/noise).
rule_mapping = {
    **{rule: _odr_task(rule) for rule in ODR_DELAY_MS},
    'odrd': odrd,
    **{rule: _anti_saccade_task(rule) for rule in ('overlap', 'zero_gap', 'gap', 'gap500')},
    **{rule: _match_or_non_task(rule) for rule in MATCH_OR_NON_VARIANT},
}

rule_name = {
    **{rule: 'ODR' if rule == 'odr' else 'ODR %d ms delay' % delay
       for rule, delay in ODR_DELAY_MS.items()},
    'odrd': 'ODR with distractor',
    'overlap': 'Overlap anti-saccade',
    'zero_gap': 'Zero-gap anti-saccade',
    'gap': 'Gap anti-saccade',
    'gap500': 'Gap500 anti-saccade',
    'match_or_non': 'Match or non-match',
    'match_or_non_easy': 'Match or non-match (easy)',
    'match_or_non_passive': 'Match or non-match (passive)',
}


def generate_trials(rule, hp, mode, noise_on=True, **kwargs):
    """Generate one batch of trials of `rule`.

    Args:
        rule: rule name (a key of rule_mapping).
        hp: hyperparameter dict (dt, n_eachring, n_input, ruleset, rng, ...).
        mode: 'random' (kwarg batch_size), 'test' (128 trials on the location grid), or for
            odrd also 'test-a-b' (kwargs a, b, batch_size).
        noise_on: add input noise (drawn from hp['rng'] after everything else).
        kwargs: passed to the task; also rule_on / rule_off (steps, default the whole
            trial), rule_strength (default 1.), replace_rule (a rule name, int offset, or
            list of them, whose unit(s) get the rule input instead; rule_strength is then a
            list for a list).

    Returns:
        Trial with x (T, B, n_input), y (T, B, n_output), y_loc (T, B), c_mask, epochs.
    """
    if rule not in rule_mapping:
        raise ValueError('unknown rule %r; valid rules: %s' % (rule, sorted(rule_mapping)))
    trial = rule_mapping[rule](hp, mode, **kwargs)

    rule_inputs = kwargs.get('replace_rule', rule)
    if isinstance(rule_inputs, (str, int, np.integer)):
        rule_inputs = [rule_inputs]
        strengths = [kwargs.get('rule_strength', 1.)]
    else:
        strengths = kwargs.get('rule_strength', [1.] * len(rule_inputs))
    for rule_input, strength in zip(rule_inputs, strengths):
        trial.add_rule(rule_input, on=kwargs.get('rule_on'), off=kwargs.get('rule_off'),
                       strength=strength)

    if noise_on:
        trial.add_x_noise()
    return trial

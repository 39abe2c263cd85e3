"""The sweep on a Ray cluster of two nodes started on this machine.

    python benchmarks/bench_ray_cluster.py
    python benchmarks/bench_ray_cluster.py --only indi_odr set2_exp1 --max-trials 5120

Starts a private two-node cluster, as a lab would on two machines but on loopback: a head
(`ray start --head --num-cpus 1 --port <free port>`) and a second node (`ray start
--address 127.0.0.1:<port> --num-cpus 1`), both with --temp-dir in a new temporary folder
and RAY_AUTH_MODE=disabled (nobody else joins it). Then trains two tiny experiments on it
exactly as a user would:

    python Training_with_diff_HyperParameters.py --only A B --set n_rnn=16 \\
        --max-trials 2560 --root <tmp>/models --ray 127.0.0.1:<port>

With one CPU per node and per task, the two runs can only go at once on two different
nodes; each run's summary line names its node. Checks: the command exits 0, both logs
reach --max-trials, and the runs went to two distinct nodes. The cluster is stopped in
every case, its own processes only: those whose command line names its temporary folder
or its port, and their children (`ray stop` would stop every Ray instance on the machine,
other users' included). Prints a table and a one-line summary; exit status 1 if a check
fails.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import tools  # the suite's modules: installed by requirements.txt (pip install -e .)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

START_TIMEOUT = 180     # s for `ray start`
TRAIN_TIMEOUT = 1200    # s for the two runs
SUMMARY_LINE = re.compile(r'^(\S+)\s+trials\s+(\d+)\s+min perf\s+\S+\s+([\d.]+) s\s+(.*?)'
                          r'(?: on node (\w+))?\s+\[(.*)\]$')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def ray_env():
    env = dict(os.environ, RAY_AUTH_MODE='disabled', TF_CPP_MIN_LOG_LEVEL='2')
    env.pop('RAY_ADDRESS', None)       # never a cluster someone else started
    return env


def run(cmd, timeout, what):
    """Run cmd; returns its stdout; raises RuntimeError with the tail of its output."""
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=REPO, env=ray_env(), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        tail = '\n'.join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise RuntimeError('{} failed (exit {}):\n{}'.format(what, proc.returncode, tail))
    return proc.stdout, time.time() - t0


def start_cluster(temp_dir, port):
    """Head and second node, one CPU each; returns the seconds each start took."""
    common = ['--num-cpus', '1', '--node-ip-address', '127.0.0.1', '--temp-dir', temp_dir,
              '--disable-usage-stats']
    _, head = run(['ray', 'start', '--head', '--port', str(port), '--include-dashboard',
                   'false', '--dashboard-port', str(free_port()), '--ray-client-server-port',
                   str(free_port())] + common, START_TIMEOUT, 'ray start --head')
    _, second = run(['ray', 'start', '--address', '127.0.0.1:{}'.format(port)] + common,
                    START_TIMEOUT, 'ray start --address (second node)')
    return head, second


def _processes():
    """{pid: (ppid, command line)} of every process this user can read."""
    out = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/{}/cmdline'.format(pid), 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
            with open('/proc/{}/stat'.format(pid)) as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        out[int(pid)] = (ppid, cmd)
    return out


def cluster_pids(temp_dir, port):
    """The cluster's processes: command line naming its temp folder or GCS port, and all
    their descendants (Ray workers rename themselves 'ray::…')."""
    procs = _processes()
    mark = ':{}'.format(port)
    roots = {p for p, (_, cmd) in procs.items()
             if temp_dir in cmd or re.search(re.escape(mark) + r'(\s|$)', cmd)}
    roots.discard(os.getpid())
    found, grew = set(roots), True
    while grew:
        kids = {p for p, (pp, _) in procs.items() if pp in found} - found
        grew = bool(kids)
        found |= kids
    found.discard(os.getpid())
    return sorted(found)


def _alive(pid):
    """pid runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        with open('/proc/{}/stat'.format(pid)) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


def stop_cluster(temp_dir, port, grace=10.0):
    """SIGTERM the cluster's processes, SIGKILL those left after grace seconds (GCS and
    raylets take a few seconds to shut down); returns how many still run after that."""
    pids = cluster_pids(temp_dir, port)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + grace
        while time.time() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.2)
        pids = [p for p in pids if _alive(p)]
        if not pids:
            break
    return len(pids)


def parse_summaries(out, names):
    """{name: {'trials', 'seconds', 'status', 'node'}} from the sweep's summary lines."""
    found = {}
    for line in out.splitlines():
        m = SUMMARY_LINE.match(line.strip())
        if m and m.group(1) in names:
            found[m.group(1)] = {'trials': int(m.group(2)), 'seconds': float(m.group(3)),
                                 'status': m.group(4), 'node': m.group(5) or '?'}
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--only', nargs=2, default=['indi_odr', 'indi_overlap'],
                        metavar='NAME', help='the two experiments (default: %(default)s)')
    parser.add_argument('--max-trials', type=int, default=2560)
    parser.add_argument('--n-rnn', type=int, default=16)
    args = parser.parse_args(argv)
    if shutil.which('ray') is None:
        print('bench_ray_cluster: the `ray` command is not on PATH (pip install "ray>=2.9")',
              file=sys.stderr)
        return 2
    # A short path: Ray's socket paths must stay under 107 characters.
    tmp = tempfile.mkdtemp(prefix='rb', dir='/tmp' if os.path.isdir('/tmp') else None)
    temp_dir, root = os.path.join(tmp, 'ray'), os.path.join(tmp, 'models')
    port = free_port()
    address = '127.0.0.1:{}'.format(port)
    timing, runs, logged, error = {}, {}, {}, None
    t_all = time.time()
    try:
        timing['head start'], timing['second node start'] = start_cluster(temp_dir, port)
        out, timing['training'] = run(
            [sys.executable, 'Training_with_diff_HyperParameters.py', '--only'] + args.only +
            ['--set', 'n_rnn={}'.format(args.n_rnn), '--max-trials', str(args.max_trials),
             '--root', root, '--ray', address], TRAIN_TIMEOUT, 'training on the cluster')
        runs = parse_summaries(out, args.only)
        # what the model folders (the shared file system) hold, not only what was printed
        logged = {n: tools.load_log(os.path.join(root, n))['trials'][-1] for n in runs}
    except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as exc:
        error = '{}: {}'.format(type(exc).__name__, exc)
    finally:
        t0 = time.time()
        left = stop_cluster(temp_dir, port)
        timing['stop'] = time.time() - t0
        if left:
            error = (error + '; ' if error else '') + '{} cluster process(es) still ' \
                'running (their command lines name {})'.format(left, temp_dir)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    checks = [(name, runs.get(name), logged.get(name) == args.max_trials)
              for name in args.only]
    nodes = {r['node'] for _, r, _ in checks if r}
    ok = error is None and all(c for _, _, c in checks) and len(nodes) == 2 and '?' not in nodes

    print('{:<14s} {:>8s} {:>9s}  {:<10s} {}'.format('experiment', 'trials', 'seconds', 'node',
                                                      'status'))
    for name, r, _ in checks:
        if r is None:
            print('{:<14s} {:>8s} {:>9s}  {:<10s} {}'.format(name, '-', '-', '-', 'no result'))
        else:
            print('{:<14s} {:>8d} {:>9.1f}  {:<10s} {}'.format(name, r['trials'], r['seconds'],
                                                              r['node'], r['status']))
    print('cluster: ' + ', '.join('{} {:.1f} s'.format(k, v) for k, v in timing.items()))
    if error:
        print(error, file=sys.stderr)
    print('bench_ray_cluster: {} of {} experiments trained to {:,} trials on {} node(s) of a '
          'two-node cluster; {} ({:.0f} s in all)'.format(
              sum(1 for _, _, c in checks if c), len(checks), args.max_trials, len(nodes),
              'OK' if ok else 'FAILED', time.time() - t_all))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())

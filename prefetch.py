"""Work done ahead in a background thread and handed over in order.

A training step spends almost all its time inside ``Session.run``, which releases the
GIL. A second thread can meanwhile draw the next steps' trials from hp['rng'] and their
recurrent noise (a session call of its own), so that neither is on the critical path.
``Prefetcher`` runs a generator in such a thread and hands its items to the consumer in
the generator's order: whatever the generator does (the order of its draws from a
random generator included) happens exactly as if the consumer ran it itself, only
earlier.
"""

import queue
import threading

# How often a producer blocked on a full queue checks whether it should stop (s).
_POLL_S = 0.05


class Prefetcher(object):
    """Iterate over `items` (a generator) in a background thread, at most `depth` ahead.

    ``next(prefetcher)`` returns the generator's items in order. An exception raised by
    the generator (KeyboardInterrupt included) is raised by the ``next`` call that would
    have returned the item at its place, so the consumer sees it exactly where a serial
    loop would have; StopIteration follows the last item. ``close()`` (or leaving a
    ``with`` block) stops the thread and waits for it: at most the time of the item being
    produced. The generator must not share mutable state with the consumer except through
    its items.
    """

    def __init__(self, items, depth):
        if depth < 1:
            raise ValueError('depth must be at least 1, got {!r}'.format(depth))
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._produce, args=(items,),
                                        name='prefetch', daemon=True)
        self._thread.start()

    def _put(self, entry):
        """Queue entry unless asked to stop first; True if queued."""
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_S)
                return True
            except queue.Full:
                pass
        return False

    def _produce(self, items):
        try:
            for item in items:
                if not self._put((True, item)):
                    return
        except BaseException as exc:  # raised again in the consumer's thread, in order
            self._put((False, exc))
            return
        self._put((False, StopIteration()))

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        ok, item = self._queue.get()
        if ok:
            return item
        self._done = True
        raise item

    def close(self):
        self._stop.set()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

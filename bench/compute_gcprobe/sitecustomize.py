"""bench/compute.py's garbage-collector probe, loaded into overcast through PYTHONPATH.

When BENCH_GC_LOG names a file, every full (generation 2) collection appends one line:
``<unix time> <milliseconds> <objects collected>``. It changes nothing else.
"""

import gc
import os
import time

_path = os.environ.get("BENCH_GC_LOG")
if _path:
    _log = open(_path, "a", buffering=1)
    _started = [0.0]

    def _probe(phase, info):
        if info.get("generation") != 2:
            return
        if phase == "start":
            _started[0] = time.perf_counter()
        else:
            _log.write(f"{time.time():.4f} {(time.perf_counter() - _started[0]) * 1000:.2f} {info['collected']}\n")

    gc.callbacks.append(_probe)

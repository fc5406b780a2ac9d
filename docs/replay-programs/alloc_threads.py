# Four threads allocating and freeing lists and bytes objects of a few MiB for about a second: the python3
# program of docs/replay.md's "Recorded programs" table. Large objects go to mmap, small ones to the heap (brk).
import threading
import time

DURATION_S = 1.0


def churn(seed):
    deadline = time.monotonic() + DURATION_S
    size = (2 + seed) << 20
    while time.monotonic() < deadline:
        data = bytes(size)
        items = [seed] * (size // 8)
        del data, items


threads = [threading.Thread(target=churn, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()

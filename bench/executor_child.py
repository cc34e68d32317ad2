"""One executor process for the benchmark: ``python -m bench.executor_child URL START LIMIT``."""

import sys

from bench.measure import executor_child

if __name__ == "__main__":
    executor_child(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]))

"""cold_call.py: cold_call.c's measurement through the Python binding.

Times hc.http_connect on an unknown connection (fails before any I/O; the result is built,
copied into a Result and freed) back to back, then each call after a sleep of 50 µs and
of 1 ms. The difference from cold_call.c's figures is what the binding costs a thread that
has just woken up, as every synchronous request's thread has (BENCHMARKS.md, item 17).

usage: HC_LIBRARY=build/libhc.so PYTHONPATH=bindings/python python3 cold_call.py [N]
"""
import statistics
import sys
import time

import hc


def median_call_us(n, sleep_s):
    took = []
    clock = time.perf_counter_ns
    for _ in range(n):
        if sleep_s:
            time.sleep(sleep_s)
        t0 = clock()
        hc.http_connect("nosuch", "/")
        took.append(clock() - t0)
    return statistics.median(took) / 1e3


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    hc.init("keep_connections = 1\n")
    median_call_us(n, 0)  # warm-up, as cold_call.c
    print("Python hot median %.2f us" % median_call_us(n, 0))
    print("Python after-50us median %.2f us" % median_call_us(n, 50e-6))
    print("Python after-1ms median %.2f us" % median_call_us(n // 10, 1e-3))


if __name__ == "__main__":
    main()

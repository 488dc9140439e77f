"""numpy brute force for benches/vector_knn.rs: the exact top k by L2
distance of each query over the same vectors, read from the raw
little-endian float32 files the bench writes. Prints the median time per
query (ms, after one untimed query) on the first line, then the ids
(1-based) of each query's k nearest, nearest first, one query per line."""

import sys
import time

import numpy as np

folder, rows, dims, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
x = np.fromfile(f"{folder}/rows.f32", dtype="<f4").reshape(rows, dims)
queries = np.fromfile(f"{folder}/queries.f32", dtype="<f4").reshape(-1, dims)
times, answers = [], []
for i, q in enumerate(queries):
    start = time.perf_counter()
    diff = x - q
    d = np.einsum("ij,ij->i", diff, diff)
    top = np.argpartition(d, k)[:k]
    top = top[np.lexsort((top, d[top]))]
    took = time.perf_counter() - start
    if i > 0:
        times.append(took)
    answers.append(top + 1)
times.sort()
print(f"{times[len(times) // 2] * 1000:.3f}")
for a in answers:
    print(" ".join(str(int(i)) for i in a))

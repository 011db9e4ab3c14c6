"""Runs CTGAN in its own environment (benchmark only; CTGAN is not a FairGen dependency).

Usage: python _ctgan_worker.py TRAIN.csv DISCRETE.json EPOCHS N_SAMPLES OUT.csv
Prints one JSON line: transformer seconds, fit seconds, rows.
"""

import json
import sys
import time

import pandas as pd
from ctgan import CTGAN
from ctgan.data_transformer import DataTransformer

train_path, discrete_path, epochs, n_samples, out_path = sys.argv[1:6]
train = pd.read_csv(train_path, keep_default_na=False, na_values=[])
with open(discrete_path) as handle:
    discrete = json.load(handle)
start = time.perf_counter()
DataTransformer().fit(train, discrete)
transformer_s = time.perf_counter() - start
model = CTGAN(epochs=int(epochs))
start = time.perf_counter()
model.fit(train, discrete)
fit_s = time.perf_counter() - start
model.sample(int(n_samples)).to_csv(out_path, index=False)
print(json.dumps({"epochs": int(epochs), "transformer_s": transformer_s, "fit_s": fit_s, "rows": len(train)}))

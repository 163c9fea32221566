"""Reads a `pisa export` file back in PyTorch for ModelExportTests.

usage: export_check.py WEIGHTS OUT_JSON
.pth: torch.load; .safetensors: parsed here (8-byte little-endian header length, JSON header, raw little-endian
data), so the test needs no safetensors package. Writes {name: {"shape": [...], "sum": float, "first": [...]}} plus
"__architecture__": the JSON written beside the weights.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

weights, out = sys.argv[1], sys.argv[2]
if weights.endswith(".safetensors"):
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8, "BOOL": np.bool_}
    with open(weights, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    state = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
        state[name] = torch.from_numpy(array.copy())
else:
    state = torch.load(weights, map_location="cpu")

result = {
    name: {
        "shape": list(t.shape),
        "sum": float(t.double().sum()),
        "first": [float(v) for v in t.flatten()[:4].double()],
    }
    for name, t in state.items()
}
with open(os.path.splitext(weights)[0] + ".json") as f:
    result["__architecture__"] = json.load(f)
with open(out, "w") as f:
    json.dump(result, f)

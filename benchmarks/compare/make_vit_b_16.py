"""A randomly initialised torchvision ViT-B/16 (86.6M parameters, 346 MB) as safetensors, for analyze_vs_numpy.sh
when no checkpoint is at hand. The safetensors module is not needed: the format is an 8-byte little-endian header
length, a JSON header {name: {dtype, shape, data_offsets}} and the raw little-endian data.

Run:  python3 make_vit_b_16.py vit_b_16.safetensors   (torch 1.13 and torchvision 0.14; seed 0)
"""
import json
import struct
import sys

import torch
import torchvision

torch.manual_seed(0)
state = {k: v.contiguous() for k, v in torchvision.models.vit_b_16(weights=None).state_dict().items()}
header, blobs, offset = {}, [], 0
for name, t in state.items():
    data = t.numpy().tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
encoded = json.dumps(header).encode()
encoded += b" " * (-len(encoded) % 8)  # the data starts 8-byte aligned
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(encoded)) + encoded)
    for data in blobs:
        f.write(data)
print(f"{sys.argv[1]}: {sum(t.numel() for t in state.values())} parameters in {len(state)} tensors")

#!/usr/bin/env python3
"""PyTorch reference class activation maps for a GAP-then-linear model (torchvision ResNet-18).

Usage: /usr/bin/python3 tools/reference_cam.py OUT_DIR

Exports ResNet-18 with random weights (fixed seed, nothing downloaded) to OUT_DIR/resnet18.onnx
with dynamic batch, height and width, then for each fixed input (seeded standard normal, already
"preprocessed") writes, as raw little-endian float32:
  <case>.input.f32   the input [1, 3, H, W]
  <case>.logits.f32  PyTorch's logits [1, 1000]
  <case>.cam.f32     the CAM of the top class [h, w]: sum_k fc.weight[c, k] * layer4(x)[k],
                     layer4's output captured with a forward hook (no bias: it shifts, not shapes)
and OUT_DIR/index.json describing them:
  {"model": "resnet18.onnx", "cases": [{"name", "input": {"file", "shape"},
   "logits": {"file", "shape"}, "cam": {"file", "shape", "class"}}]}
The Java test runs the exported model through gapstream's engine and compares.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision

from export_torchvision import TORCHSCRIPT_EXPORTER

OPSET = 13
CASES = [("square224", 224, 224, 1), ("wide160x192", 160, 192, 2)]


def write(out_dir, name, tensor):
    arr = tensor.detach().cpu().numpy().astype("<f4")
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(arr.tobytes())
    return {"file": name, "shape": list(arr.shape)}


def export(model, path):
    axes = {"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}}
    tmp = path + ".tmp"
    torch.onnx.export(
        model, torch.zeros(1, 3, 224, 224), tmp, opset_version=OPSET,
        input_names=["input"], output_names=["logits"], dynamic_axes=axes,
        do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL, **TORCHSCRIPT_EXPORTER)
    os.replace(tmp, path)


def reference(model, x):
    seen = {}
    handle = model.layer4.register_forward_hook(lambda _m, _i, out: seen.update(f=out))
    with torch.no_grad():
        logits = model(x)
    handle.remove()
    top = int(logits[0].argmax())
    features = seen["f"][0].double()  # [K, h, w]; double so the reference itself adds no error
    weights = model.fc.weight[top].detach().double()  # [K]
    cam = torch.einsum("k,khw->hw", weights, features).float()
    return logits, top, cam


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    export(model, os.path.join(out_dir, "resnet18.onnx"))
    cases = []
    for name, h, w, seed in CASES:
        x = torch.from_numpy(np.random.default_rng(seed).standard_normal((1, 3, h, w)).astype("f4"))
        logits, top, cam = reference(model, x)
        entry = {
            "name": name,
            "input": write(out_dir, name + ".input.f32", x),
            "logits": write(out_dir, name + ".logits.f32", logits),
            "cam": write(out_dir, name + ".cam.f32", cam),
        }
        entry["cam"]["class"] = top
        cases.append(entry)
        print(name, "top", top, "cam", list(cam.shape), flush=True)
    with open(os.path.join(out_dir, "index.json.tmp"), "w") as f:
        json.dump({"model": "resnet18.onnx", "cases": cases}, f, indent=1)
    os.replace(os.path.join(out_dir, "index.json.tmp"), os.path.join(out_dir, "index.json"))


if __name__ == "__main__":
    main(sys.argv)

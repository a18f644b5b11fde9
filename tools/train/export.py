"""Exports a trained GapNet to ONNX and writes the reference tensors for Java agreement checks.

Reference format (models/<name>/reference/): index.json lists cases; each case names raw
little-endian float32 files in C (row-major) order with their shapes:
  <case>.input.f32   [1, 3, H, W]  already preprocessed (value = (pixel/255 - mean) / std)
  <case>.logits.f32  [1, C]        PyTorch's logits for that input
  <case>.cam.f32     [1, C, h, w]  PyTorch's class maps
"""
import inspect
import json
import os
import shutil

import numpy as np
import onnx
import torch

from gapnet import LABELS, MEAN, STD, cam_cell_centre

OPSET = 13
# Frames used as reference inputs: (width, height). 48x80 is not in synth's default set on purpose:
# it checks that any size above the minimum runs.
REFERENCE_SIZES = [(64, 64), (96, 128), (128, 96), (48, 80)]


class Exported(torch.nn.Module):
    """Names the two outputs in the order the descriptor lists them."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        logits, cam = self.model(x)
        return logits, cam


# PyTorch 2.9 and later export through dynamo unless told otherwise; this export (opset 13, dynamic
# axes) is written for the TorchScript exporter, the only one Debian's PyTorch has.
TORCHSCRIPT_EXPORTER = (
    {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {})


def export_onnx(model, path):
    # The wrapper must be in eval mode too: export restores the wrapper's mode afterwards, and a
    # fresh module is in training mode, which would flip the wrapped model back to training.
    wrapper = Exported(model).eval()
    dummy = torch.zeros(1, 3, 96, 128)
    torch.onnx.export(
        wrapper, dummy, path, opset_version=OPSET, input_names=["input"],
        output_names=["logits", "cam"], do_constant_folding=True,
        dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"},
                      "cam": {0: "batch", 2: "cam_height", 3: "cam_width"}},
        **TORCHSCRIPT_EXPORTER)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"onnx: {path} {os.path.getsize(path)} bytes, opset {OPSET}, ops {ops}", flush=True)


def write_reference(model, out_dir, eval_dir, eval_groups):
    from PIL import Image
    ref = os.path.join(out_dir, "reference")
    os.makedirs(ref, exist_ok=True)
    cases = []
    mean = np.array(MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.array(STD, dtype=np.float32).reshape(1, 3, 1, 1)
    # Take a PNG eval frame (lossless: the same pixels in Java and PIL) and crop it to each size.
    (h0, w0), (_, labels, _, files) = max(eval_groups.items(), key=lambda kv: kv[0][0] * kv[0][1])
    pngs = [i for i, f in enumerate(files) if f.endswith(".png")]
    if not pngs:
        raise SystemExit(f"export: no PNG among the {len(files)} eval frames of {w0}x{h0} to take reference"
                         " inputs from; raise --eval-count")
    for k, (w, h) in enumerate(REFERENCE_SIZES):
        # One frame a size where there are enough (the shipped references); a small trial eval set
        # (--eval-count 40) had fewer, and the export failed after the training had finished.
        i = pngs[k % len(pngs)]
        img = np.asarray(Image.open(os.path.join(eval_dir, files[i])).convert("RGB"))[:h, :w]
        x = ((img.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)) - mean) / std
        x = np.ascontiguousarray(x, dtype=np.float32)
        with torch.no_grad():
            logits, cam = model(torch.from_numpy(x))
        name = f"ref-{k}"
        entry = {"name": name, "source": f"{os.path.basename(eval_dir)}/{files[i]} cropped to {w}x{h}"}
        for key, arr in (("input", x), ("logits", logits.numpy()), ("cam", cam.numpy())):
            fname = f"{name}.{key}.f32"
            arr.astype("<f4").tofile(os.path.join(ref, fname))
            entry[key] = {"file": fname, "shape": list(arr.shape)}
        entry["argmax"] = int(logits.argmax())
        cases.append(entry)
    with open(os.path.join(ref, "index.json"), "w") as f:
        json.dump({"format": "raw little-endian float32, C order; shapes below",
                   "labels": LABELS, "mean": MEAN, "std": STD, "pixelScale": 255.0,
                   "tolerance": {"logits": 1e-3, "cam": 1e-3}, "cases": cases}, f, indent=1)


def write_descriptor(out_dir, name, version, cell_centre):
    desc = {"name": name, "version": version, "input": "input", "layout": "NCHW",
            "channelOrder": "RGB", "pixelScale": 255.0, "mean": MEAN, "std": STD,
            "minSize": {"width": 32, "height": 32}, "fixedSize": None,
            # The largest training frames' side: objects are 30-60% of the shorter side, so a
            # frame much larger than this holds objects larger than any the net learnt. gapstream
            # scales longer frames down to it (ingest.resize.max.side).
            "maxSide": 256,
            "labels": LABELS,
            "outputs": {"logits": "logits", "cam": "cam"}, "head": "class-maps-gap",
            # From the convolutions' geometry (gapnet.cam_cell_centre): 0.0625 for GapNet, whose
            # 3x3 stride-2 convolutions centre cell j of the 1/8 maps on pixel 8j, not 8j + 4.
            "camCellCentre": cell_centre}
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(desc, f, indent=2)
        f.write("\n")


def export_all(model, out_dir, eval_dir, eval_groups, metrics, name, version):
    """Writes model.onnx, reference/, model.json (naming the model `name`, `version`) and
    metrics.json into out_dir. They are made and
    checked in a staging directory beside it first, which goes whatever happens: a failed check
    used to leave a new model.onnx beside the old model.json and reference tensors."""
    staging = os.path.normpath(out_dir) + ".export"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    try:
        model.eval()
        export_onnx(model, os.path.join(staging, "model.onnx"))
        model.eval()
        write_reference(model, staging, eval_dir, eval_groups)
        write_descriptor(staging, name, version, cam_cell_centre(model))
        with open(os.path.join(staging, "metrics.json"), "w") as f:
            json.dump(metrics, f, indent=1)
        os.makedirs(out_dir, exist_ok=True)
        shutil.rmtree(os.path.join(out_dir, "reference"), ignore_errors=True)
        for name in ("reference", "model.json", "metrics.json", "model.onnx"):
            os.replace(os.path.join(staging, name), os.path.join(out_dir, name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)

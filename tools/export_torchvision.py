#!/usr/bin/env python3
"""Export test models to ONNX for gapstream's inference tests.

Usage: /usr/bin/python3 tools/export_torchvision.py OUT_DIR [MODEL ...]

Models: resnet18, mobilenet_v2, squeezenet1_1 (torchvision architectures with random weights:
nothing is downloaded) and three tiny nets for unit tests: tiny-cam (class maps + GAP, with a
`cam` output), tiny-linear (GAP then a linear layer) and tiny-fc (a flattened fixed-size map into
a linear layer: no GAP); tiny-cam-batch1, tiny-cam with its batch dimension fixed at 1, as
PyTorch exports a model without a dynamic batch axis; tiny-cam-fixed33, tiny-cam fixed at 33x33
pixels, a size its stride of 2 does not divide; and tiny-linear-softmax, tiny-linear with
Softmax on its output (probabilities, as many exported classifiers give), tiny-linear-logsoftmax
(LogSoftmax instead), tiny-linear-sigmoid (Sigmoid instead: a multi-label head) and tiny-cam-1class
(tiny-cam with one class), tiny-cam-nan (NaN logits for dark frames), tiny-linear-external (tiny-linear with its weights in
tiny-linear-external.onnx.data beside the graph); tiny-linear-softmax-identity (tiny-linear's Softmax
behind an Identity) and tiny-linear-softmax-fp16 (its Softmax run in float16 between two Casts, as a
float16 conversion that keeps float32 inputs and outputs leaves a model); tiny-linear-grouped (its
linear layer a 1x1 convolution in 2 groups) and tiny-linear-double (its logits cast to float64).
With no MODEL, all are exported. A model whose .onnx already exists is
skipped.

Next to the exports it writes expectations.json: for each model the head kind, the head's
parameter count, the total as PyTorch counts it, the total after export (BatchNorm folded into the
preceding convolution: each BN's weight and bias go, the convolution gains a bias), and the
parameters an FC head over the flattened last feature map would need at the nominal input size.
The Java tests compare the inspector's figures with these, computed from the torch modules.
"""
import inspect
import json
import os
import sys

import onnx
import torch
import torch.nn as nn
import torchvision

OPSET = 13
# PyTorch 2.9 and later export through dynamo unless told otherwise; these exports (dynamic_axes,
# training mode) are written for the TorchScript exporter, the only one Debian's PyTorch has.
TORCHSCRIPT_EXPORTER = (
    {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {})
NOMINAL = 224


class TinyCam(nn.Module):
    """Two convolutions to 4 class maps, then GAP: the class-maps-gap head."""

    def __init__(self, classes=4):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.classifier = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        cam = self.classifier(self.body(x))
        return cam.mean(dim=(2, 3)), cam


class TinyLinear(nn.Module):
    """GAP then a linear layer: the gap-linear head (like ResNet)."""

    def __init__(self, classes=4):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.body(x)), 1))


class TinyLinearSoftmax(TinyLinear):
    """tiny-linear with its scores put through Softmax: a model whose output is probabilities."""

    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)


class TinyLinearLogSoftmax(TinyLinear):
    """tiny-linear with its scores put through LogSoftmax: log-probabilities."""

    def forward(self, x):
        return torch.log_softmax(super().forward(x), dim=1)


class TinyLinearSigmoid(TinyLinear):
    """tiny-linear with each score put through Sigmoid: a multi-label head, which gapstream refuses."""

    def forward(self, x):
        return torch.sigmoid(super().forward(x))


class TinyCamNan(TinyCam):
    """tiny-cam whose logits are NaN for a frame darker than the normalisation's mean (a model that
    fails on some inputs): its logits plus 0 times the square root of the frame's mean."""

    def forward(self, x):
        logits, cam = super().forward(x)
        return logits + 0 * torch.sqrt(x.mean(dim=(1, 2, 3))).unsqueeze(1), cam


class TinyLinearGrouped(nn.Module):
    """tiny-linear with a grouped 1x1 convolution (2 groups) for its linear layer: class c sees
    only the 4 features of its group."""

    def __init__(self, classes=4):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(8, classes, 1, groups=2)

    def forward(self, x):
        return torch.flatten(self.fc(self.pool(self.body(x))), 1)


class TinyLinearDouble(TinyLinear):
    """tiny-linear with its logits cast to float64: an output gapstream cannot read as floats."""

    def forward(self, x):
        return super().forward(x).double()


class TinyFc(nn.Module):
    """A fixed-size map flattened into a linear layer: no GAP at all."""

    def __init__(self, classes=4):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.fc = nn.Linear(8 * 16 * 16, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.body(x), 1))


def count(module):
    return sum(p.numel() for p in module.parameters())


def folded_count(model):
    """Parameters left after export folds each BatchNorm into the convolution before it."""
    total = count(model)
    last_conv = None
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            last_conv = m
        elif isinstance(m, nn.BatchNorm2d):
            total -= m.weight.numel() + m.bias.numel()
            if last_conv is not None and last_conv.bias is None:
                total += m.num_features
    return total


def feature_shape(model, module, size, use_input):
    """Shape (C, h, w) of the tensor entering (or leaving) `module` for one size x size image."""
    seen = {}

    def hook(_m, inputs, output):
        seen["t"] = inputs[0] if use_input else output

    handle = module.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    handle.remove()
    return list(seen["t"].shape[1:])


MODELS = [
    "resnet18", "mobilenet_v2", "squeezenet1_1", "tiny-cam", "tiny-linear", "tiny-fc", "tiny-cam-batch1",
    "tiny-linear-softmax", "tiny-linear-logsoftmax", "tiny-linear-sigmoid", "tiny-cam-1class",
    "tiny-cam-nan", "tiny-linear-external", "tiny-linear-softmax-identity", "tiny-linear-softmax-fp16",
    "tiny-cam-fixed33", "tiny-linear-grouped", "tiny-linear-double"]


# The gap-linear tiny nets: (module, output name). Each has a body, a pool and an fc.
TINY_LINEAR = {
    "tiny-linear": (TinyLinear, "logits"),
    "tiny-linear-external": (TinyLinear, "logits"),
    "tiny-linear-softmax-identity": (TinyLinear, "logits"),
    "tiny-linear-softmax-fp16": (TinyLinear, "logits"),
    "tiny-linear-softmax": (TinyLinearSoftmax, "probabilities"),
    "tiny-linear-logsoftmax": (TinyLinearLogSoftmax, "log_probabilities"),
    "tiny-linear-sigmoid": (TinyLinearSigmoid, "probabilities"),
    "tiny-linear-grouped": (TinyLinearGrouped, "logits"),
    "tiny-linear-double": (TinyLinearDouble, "logits"),
}


def build(name):
    """(module, head module, kind, features module, hook input?, size, dynamic H/W?, outputs)."""
    tv = torchvision.models
    if name == "resnet18":
        m = tv.resnet18(weights=None)
        return m, m.fc, "gap-linear", m.avgpool, True, NOMINAL, False, ["logits"]
    if name == "mobilenet_v2":
        m = tv.mobilenet_v2(weights=None)
        return m, m.classifier[1], "gap-linear", m.features, False, NOMINAL, False, ["logits"]
    if name == "squeezenet1_1":
        m = tv.squeezenet1_1(weights=None)
        return m, m.classifier[1], "class-maps-gap", m.classifier[1], True, NOMINAL, False, ["logits"]
    if name in ("tiny-cam", "tiny-cam-batch1"):
        m = TinyCam()
        return m, m.classifier, "class-maps-gap", m.classifier, True, NOMINAL, True, ["logits", "cam"]
    if name in TINY_LINEAR:
        module, output = TINY_LINEAR[name]
        m = module()
        return m, m.fc, "gap-linear", m.pool, True, NOMINAL, True, [output]
    if name == "tiny-cam-fixed33":
        m = TinyCam()
        return m, m.classifier, "class-maps-gap", m.classifier, True, 33, False, ["logits", "cam"]
    if name == "tiny-cam-1class":
        m = TinyCam(classes=1)
        return m, m.classifier, "class-maps-gap", m.classifier, True, NOMINAL, True, ["logits", "cam"]
    if name == "tiny-cam-nan":
        m = TinyCamNan()
        return m, m.classifier, "class-maps-gap", m.classifier, True, NOMINAL, True, ["logits", "cam"]
    if name == "tiny-fc":
        m = TinyFc()
        return m, m.fc, "none", m.body, False, 32, False, ["logits"]
    raise SystemExit(f"unknown model {name}")


def export(name, out_dir):
    torch.manual_seed(0)
    model, head, kind, feat_mod, use_input, size, dynamic_hw, outputs = build(name)
    model.eval()
    path = os.path.join(out_dir, name + ".onnx")
    c, h, w = feature_shape(model, feat_mod, size, use_input)
    classes = head.out_channels if isinstance(head, nn.Conv2d) else head.out_features
    expected = {
        "kind": kind,
        "headParams": count(head),
        "torchParams": count(model),
        "exportedParams": folded_count(model),
        "nominalSize": size,
        "featureShape": [c, h, w],
        "fcHeadParams": c * h * w * classes + classes,
        "classes": classes,
    }
    if not os.path.exists(path):
        # "-batch1": exported as PyTorch does without dynamic_axes for the batch, fixed at 1.
        fixed_batch = name.endswith("-batch1")
        axes = {"input": {} if fixed_batch else {0: "batch"}}
        if dynamic_hw:
            axes["input"].update({2: "height", 3: "width"})
        for o in outputs:
            if not fixed_batch:
                axes[o] = {0: "batch"}
        tmp = path + ".tmp"
        torch.onnx.export(
            model, torch.zeros(1, 3, size, size), tmp, opset_version=OPSET,
            input_names=["input"], output_names=outputs, dynamic_axes=axes,
            do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL, **TORCHSCRIPT_EXPORTER)
        if name.endswith("-external"):
            # "-external": the weights saved beside the graph, in NAME.onnx.data, as exporters
            # write models over 2 GB (and smaller ones when asked to).
            onnx.save_model(onnx.load(tmp), tmp, save_as_external_data=True,
                            all_tensors_to_one_file=True, location=name + ".onnx.data",
                            size_threshold=0)
        if name.startswith("tiny-linear-softmax-"):
            softmax_behind_pass_through(tmp, fp16=name.endswith("-fp16"))
        os.replace(tmp, path)
    return expected


def softmax_behind_pass_through(path, fp16):
    """Puts the exported logits through a Softmax into output `probabilities`, with nodes after it
    that hand values on unchanged: an Identity, or (fp16) a Cast back to float32, the Softmax run in
    float16 behind a Cast to it."""
    m = onnx.load(path)
    g = m.graph
    logits = g.output[0].name
    inner = "test/logits"
    for n in g.node:
        n.output[:] = [inner if o == logits else o for o in n.output]
    h = onnx.helper
    if fp16:
        g.node.extend([
            h.make_node("Cast", [inner], ["test/logits16"], to=onnx.TensorProto.FLOAT16),
            h.make_node("Softmax", ["test/logits16"], ["test/probabilities16"], axis=1),
            h.make_node("Cast", ["test/probabilities16"], ["probabilities"], to=onnx.TensorProto.FLOAT)])
    else:
        g.node.extend([
            h.make_node("Softmax", [inner], ["test/probabilities"], axis=1),
            h.make_node("Identity", ["test/probabilities"], ["probabilities"])])
    g.output[0].name = "probabilities"
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    out_dir = argv[1]
    names = argv[2:] or MODELS
    unknown = [n for n in names if n not in MODELS]
    if unknown:  # before any export: one typo used to cost the expectations of the models before it
        raise SystemExit(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    exp_path = os.path.join(out_dir, "expectations.json")
    expectations = {}
    if os.path.exists(exp_path):
        with open(exp_path) as f:
            expectations = json.load(f)
    for name in names:
        expectations[name] = export(name, out_dir)
        print(name, expectations[name], flush=True)
    with open(exp_path + ".tmp", "w") as f:
        json.dump(expectations, f, indent=1, sort_keys=True)
    os.replace(exp_path + ".tmp", exp_path)


if __name__ == "__main__":
    main(sys.argv)

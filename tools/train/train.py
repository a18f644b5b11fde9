#!/usr/bin/python3
"""Train, evaluate and export gapnet-shapes, the GAP-headed CNN that gapstream ships.

One command trains the shipped model again from scratch (after `./mvnw -q -B -DskipTests package`):

    /usr/bin/python3 tools/train/train.py --out models/gapnet-shapes

It generates its data with the project's own `synth` command (unless already present under
--data-dir), trains with a fixed seed, evaluates on a fresh seed, and writes model.onnx, the
reference tensors for Java agreement checks, and metrics.json into --out.

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14, onnx 1.12, PIL, numpy).
"""
import argparse
import csv
import math
import os
import random
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gapnet import GapNet, LABELS, MEAN, STD, cam_cell_centre, count_params  # noqa: E402


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def synth(jar, directory, count, seed, quiet=False):
    # The JDK ./mvnw built the jar with, as ./gapstream runs it; else the first java on PATH.
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    subprocess.run([java, "-jar", jar, "synth", "--out", directory, "--count", str(count),
                    "--seed", str(seed), "--format", "mixed"], check=True,
                   stdout=subprocess.DEVNULL if quiet else None)


def first_frames(directory, n):
    """The first n frames of a synth directory as (label row without the file name, pixels)."""
    with open(os.path.join(directory, "labels.csv")) as f:
        rows = [row for _, row in zip(range(n), csv.DictReader(f))]
    return [({k: v for k, v in row.items() if k != "file"},
             np.asarray(Image.open(os.path.join(directory, row["file"])).convert("RGB")).tobytes()) for row in rows]


def current(jar, directory, count, seed):
    """Whether the frames in `directory` are what this jar's synth writes for `seed`: its first
    frames are made again and compared (synth draws frame after frame from one seeded stream, so
    the first few do not depend on --count). Data from an older synth used to be trained on as is."""
    probe = directory + ".probe"
    shutil.rmtree(probe, ignore_errors=True)
    try:
        n = min(8, count)
        synth(jar, probe, n, seed, quiet=True)
        return first_frames(probe, n) == first_frames(directory, n)
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def ensure_data(jar, directory, count, seed):
    """Writes `count` frames with gapstream's synth command unless the directory already has the
    frames this jar writes for `seed`.

    synth writes into DIRECTORY.partial, renamed once it has finished: a run stopped half-way used to
    leave a labels.csv that the next run took for a whole data set."""
    if os.path.exists(os.path.join(directory, "labels.csv")):
        if current(jar, directory, count, seed):
            return
        log(f"{directory} was written by another synth (its first frames differ from this jar's): writing it again")
    partial = directory + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    log(f"generating {count} frames (seed {seed}) into {directory}")
    synth(jar, partial, count, seed)
    shutil.rmtree(directory, ignore_errors=True)  # a directory left without its labels.csv, or stale
    os.replace(partial, directory)


def load(directory):
    """Decodes every frame once; returns {(h, w): (uint8 NCHW tensor, labels, boxes, files)}."""
    groups = {}
    with open(os.path.join(directory, "labels.csv")) as f:
        for row in csv.DictReader(f):
            img = np.asarray(Image.open(os.path.join(directory, row["file"])).convert("RGB"))
            key = img.shape[:2]
            g = groups.setdefault(key, ([], [], [], []))
            g[0].append(img.transpose(2, 0, 1))
            g[1].append(LABELS.index(row["label"]))
            g[2].append([int(row[k]) for k in ("x0", "y0", "x1", "y1")])
            g[3].append(row["file"])
    return {k: (torch.from_numpy(np.stack(v[0])), torch.tensor(v[1]), torch.tensor(v[2]), v[3])
            for k, v in groups.items()}


def normalise(u8):
    """value = (pixel / 255 - mean) / std, per channel: what model.json tells Java to do."""
    x = u8.float().div_(255.0)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def batches(groups, batch_size, max_side, large_fraction, rng):
    """One epoch of single-size batches, shuffled; sizes with a side above max_side are skipped,
    and of the large sizes (a side above 160) only a random large_fraction is used: they cost up to
    8x more per frame than the small ones, and the small ones teach the shapes as well."""
    out = []
    for key, (_, labels, _, _) in groups.items():
        if max(key) > max_side:
            continue
        idx = list(range(len(labels)))
        rng.shuffle(idx)
        if max(key) > 160:
            idx = idx[:int(len(idx) * large_fraction)]
        out += [(key, idx[i:i + batch_size]) for i in range(0, len(idx), batch_size)]
    rng.shuffle(out)
    return out


@torch.no_grad()
def evaluate(model, groups, limit=None):
    """Top-1 accuracy, and how often the CAM peak of the predicted class lies in the true box
    (over correctly classified frames; the peak cell mapped to frame pixels at its receptive
    field's centre, as gapstream maps it with model.json's camCellCentre)."""
    centre = cam_cell_centre(model)
    was_training = model.training
    model.eval()
    n = correct = inside = 0
    per_size = {}
    for (h, w), (x8, labels, boxes, _) in sorted(groups.items()):
        m = len(labels) if limit is None else min(len(labels), limit)
        sc = si = 0
        for i in range(0, m, 64):
            j = min(i + 64, m)
            logits, cam = model(normalise(x8[i:j]))
            pred = logits.argmax(1)
            lab = labels[i:j]
            ok = pred == lab
            ch, cw = cam.shape[2:]
            top = cam[torch.arange(len(pred)), pred].reshape(len(pred), -1).argmax(1)
            px = ((top % cw).float() + centre) / cw * w
            py = ((top // cw).float() + centre) / ch * h
            b = boxes[i:j]
            hit = (px >= b[:, 0]) & (px < b[:, 2]) & (py >= b[:, 1]) & (py < b[:, 3])
            sc += int(ok.sum())
            si += int((ok & hit).sum())
        per_size[f"{w}x{h}"] = {"n": m, "top1": sc / m, "camPeakInBox": si / max(sc, 1)}
        n += m
        correct += sc
        inside += si
    model.train(was_training)
    return {"n": n, "top1": correct / n, "camPeakInBox": inside / max(correct, 1), "camCellCentre": centre,
            "perSize": per_size}


def train(args, model, groups, eval_groups):
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.05)
    plan = []
    for epoch in range(args.epochs):
        # Size curriculum: small frames first (cheap, and they get the loss off the ln C plateau).
        max_side = 128 if epoch < args.warmup_epochs else 10_000
        plan += [(epoch, b) for b in batches(groups, args.batch, max_side, args.large_fraction, rng)]
    total = len(plan)
    warm = min(300, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total - warm))))
    log(f"{total} steps over {args.epochs} epochs, {count_params(model)} parameters")
    start = time.time()
    running, seen, last_epoch, tick = 0.0, 0, 0, time.time()
    model.train()
    for step, (epoch, ((h, w), idx)) in enumerate(plan):
        if epoch != last_epoch:
            save_checkpoint(args, model, last_epoch, final=False)
            res = evaluate(model, eval_groups, limit=40)
            log(f"epoch {last_epoch} done: eval top1 {res['top1']:.4f} cam-in-box {res['camPeakInBox']:.4f}")
            last_epoch = epoch
        x8, labels, _, _ = groups[(h, w)]
        sel = torch.tensor(idx)
        x = normalise(x8[sel])
        # Flips keep every class's identity (all shapes are mirror-symmetric or random-rotated).
        if rng.random() < 0.5:
            x = x.flip(3)
        if rng.random() < 0.5:
            x = x.flip(2)
        logits, _ = model(x)
        loss = loss_fn(logits, labels[sel])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running += float(loss) * len(idx)
        seen += len(idx)
        if (step + 1) % 50 == 0:
            el = time.time() - start
            log(f"step {step + 1}/{total} epoch {epoch} {h}x{w}.. loss {running / seen:.4f} "
                f"lr {sched.get_last_lr()[0]:.2e} {seen / (time.time() - tick):.0f} img/s elapsed {el / 60:.1f} min "
                f"eta {(total - step - 1) * el / (step + 1) / 60:.1f} min")
            running, seen, tick = 0.0, 0, time.time()
    return time.time() - start


def save_checkpoint(args, model, epoch, final, training=None):
    """The weights after `epoch`, whether training ended there (what --skip-train may export) and,
    when it did, how it was trained (`training`: what metrics.json records of it). Written beside
    checkpoint.pt and renamed over it: a run killed while saving leaves the previous one whole."""
    os.makedirs(args.work, exist_ok=True)
    path = os.path.join(args.work, "checkpoint.pt")
    torch.save({"state_dict": model.state_dict(), "epoch": epoch, "epochs": args.epochs, "final": final,
                "training": training}, path + ".partial")
    os.replace(path + ".partial", path)
    log(f"checkpoint saved ({'final' if final else f'epoch {epoch}'})")


def load_checkpoint(args, model):
    """The checkpoint's weights into `model`, and how they were trained (only the epochs, from a
    checkpoint saved before that was recorded); refuses one from a run that stopped before its end."""
    path = os.path.join(args.work, "checkpoint.pt")
    saved = torch.load(path)
    if "state_dict" not in saved:
        raise SystemExit(f"{path}: no epoch recorded (saved by an older train.py); train again")
    if not saved["final"]:
        raise SystemExit(f"{path}: saved after epoch {saved['epoch'] + 1} of {saved['epochs']} by a run that did not"
                         " finish; exporting it would ship a half-trained model: train again")
    model.load_state_dict(saved["state_dict"])
    return saved.get("training") or {"epochs": saved["epochs"]}


def model_name(name, out):
    """--name, else the name of the --out directory: a model trained into models/my-net was named
    gapnet-shapes in its predictions and metric tags."""
    return name or os.path.basename(os.path.normpath(os.path.abspath(out)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="models/gapnet-shapes")
    p.add_argument("--name", help="the model's name in model.json, and so in predictions and metric tags"
                   " (default: the name of the --out directory)")
    p.add_argument("--version", default="1", help="the model's version in model.json (default: %(default)s)")
    p.add_argument("--jar", default="target/gapstream.jar")
    p.add_argument("--data-dir", default="target/data")
    p.add_argument("--work", default="target/train-work", help="checkpoints")
    p.add_argument("--train-count", type=int, default=30000)
    p.add_argument("--train-seed", type=int, default=1001)
    p.add_argument("--eval-count", type=int, default=2400)
    p.add_argument("--eval-seed", type=int, default=9001)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--warmup-epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--large-fraction", type=float, default=0.35)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    # One thread by default: on a shared 2-core machine two OpenMP threads stall at every barrier
    # when another process holds a core (measured 3-4x slower per step than one thread).
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--skip-train", action="store_true", help="evaluate/export the checkpoint in --work")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_dir = os.path.join(args.data_dir, f"train-s{args.train_seed}-n{args.train_count}")
    eval_dir = os.path.join(args.data_dir, f"eval-s{args.eval_seed}-n{args.eval_count}")
    if not args.skip_train:
        ensure_data(args.jar, train_dir, args.train_count, args.train_seed)
    ensure_data(args.jar, eval_dir, args.eval_count, args.eval_seed)
    t = time.time()
    eval_groups = load(eval_dir)
    log(f"eval set loaded ({sum(len(v[1]) for v in eval_groups.values())} frames)")
    model = GapNet(len(LABELS))
    command = "/usr/bin/python3 " + " ".join(sys.argv)
    if args.skip_train:
        # The training's own record, not this export's arguments: re-exporting keeps its provenance.
        training = load_checkpoint(args, model)
    else:
        groups = load(train_dir)
        log(f"train set loaded ({sum(len(v[1]) for v in groups.values())} frames) in {time.time() - t:.0f}s")
        train_seconds = train(args, model, groups, eval_groups)
        del groups
        training = {"trainSeed": args.train_seed, "trainCount": args.train_count, "epochs": args.epochs,
                    "trainSeconds": train_seconds, "command": command}
        save_checkpoint(args, model, args.epochs - 1, final=True, training=training)
    model.eval()
    res = evaluate(model, eval_groups)
    log(f"final eval on seed {args.eval_seed}: top1 {res['top1']:.4f} cam-in-box {res['camPeakInBox']:.4f}")
    for k, v in res["perSize"].items():
        log(f"  {k}: n {v['n']} top1 {v['top1']:.4f} cam-in-box {v['camPeakInBox']:.4f}")

    import export  # local module; imported late so training does not need onnx
    metrics = {"eval": res, "evalSeed": args.eval_seed, "evalCount": args.eval_count,
               "trainSeed": None, "trainCount": None, "epochs": None, "trainSeconds": None,
               "params": count_params(model), "command": None}
    metrics.update(training)
    if args.skip_train:
        metrics["exportCommand"] = command
    export.export_all(model, args.out, eval_dir, eval_groups, metrics, model_name(args.name, args.out), args.version)
    log("done")


if __name__ == "__main__":
    main()

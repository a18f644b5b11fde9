"""gapnet: a small fully convolutional classifier whose head is class maps + global average pooling.

No Linear layer: the last convolution (1x1) emits one map per class at 1/8 resolution, and the
logits are their spatial means. The maps are the class activation maps (CAM) themselves.
Plain 3x3 convolutions only (dilated ones left a lattice pattern in the maps); residual blocks at
1/8 grow the receptive field to 111 px, matched to objects of 19-154 px.
"""
import torch
from torch import nn

LABELS = ["circle", "square", "triangle", "star", "cross", "ring"]
# value = (pixel / 255 - MEAN) / STD; the same constant for every channel.
MEAN = [0.5, 0.5, 0.5]
STD = [0.25, 0.25, 0.25]


def norm(ch):
    """GroupNorm (8 channels a group), not BatchNorm: it normalises each frame by itself, so the
    model computes the same thing in training and inference at every frame size. With BatchNorm the
    net leaned on per-batch centring; one set of running statistics for all sizes then dropped
    the 192-256 px frames to chance (measured: 100% with batch statistics, 15-19% with running)."""
    return nn.GroupNorm(ch // 8, ch)


def conv_norm_relu(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), norm(cout),
                         nn.ReLU(inplace=True))


class Residual(nn.Module):
    """relu(x + norm(conv3x3(x))): the skip keeps gradients flowing through the deep 1/8 stage."""

    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.norm = norm(ch)

    def forward(self, x):
        return torch.relu(x + self.norm(self.conv(x)))


class GapNet(nn.Module):
    def __init__(self, classes, width=48, blocks=5):
        super().__init__()
        # Receptive field: 3, 7, 15 after the three stride-2 convs, then +16 per 3x3 conv at 1/8.
        self.body = nn.Sequential(
            conv_norm_relu(3, 16, 2),       # 1/2
            conv_norm_relu(16, 32, 2),      # 1/4
            conv_norm_relu(32, width, 2),   # 1/8
            conv_norm_relu(width, width),
            *[Residual(width) for _ in range(blocks)],
        )
        self.head = nn.Conv2d(width, classes, 1)  # one map per class

    def forward(self, x):
        cam = self.head(self.body(x))
        return cam.mean(dim=(2, 3)), cam


def cam_cell_centre(model):
    """Where in its map cell a cell's receptive field is centred, as a share of the cell (model.json's
    camCellCentre), worked out from the convolutions' kernels, strides and padding.

    Walks every Conv2d in module order as one chain; that holds for GapNet, whose only branches are
    residual skips around stride-1 "same" convolutions, which move no centre. An output index j of
    a convolution is centred on input index stride·j + (kernel - 1)·dilation/2 - padding, so map
    cell j is centred on pixel cell·j + offset, and pixel i's centre is i + 0.5 of the frame.
    For GapNet's three 3x3 stride-2 convolutions (padding 1): pixel 8j, 1/16 of a cell into it."""
    cell, offset = 1, 0.0
    for conv in reversed([m for m in model.modules() if isinstance(m, nn.Conv2d)]):
        geometry = (conv.kernel_size, conv.stride, conv.padding, conv.dilation)
        if any(not isinstance(g, tuple) or g[0] != g[1] for g in geometry):
            raise ValueError(f"{conv}: one camCellCentre needs the same geometry across and down")
        k, s, p, d = (g[0] for g in geometry)
        offset = s * offset + (k - 1) * d / 2 - p
        cell *= s
    return (offset + 0.5) / cell


def count_params(model):
    body = sum(p.numel() for p in model.body.parameters())
    head = sum(p.numel() for p in model.head.parameters())
    return {"body": body, "head": head, "total": body + head}

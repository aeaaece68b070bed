"""fastai's training step as the seed's notebook ran it, in plain PyTorch, so that the reference needs no fastai.

vision_learner's head on a timm body, fastai's Adam, GradientAccumulation (counting samples) and MixedPrecision
(autocast + GradScaler), with fastai's numbers (see /docs/gpu.md and the facts in the C# port it mirrors:
src/Paddy.Pipeline/Models/FastaiHead.cs, Training/Optimization/FastaiAdam.cs, Training/Callbacks/*.cs).
Per parameter tensor, as fastai's Optimizer loops over them in Python: the reference is what a fastai user runs.
"""
import contextlib

import torch
import torch.nn.functional as F
from torch import nn

HIDDEN_WIDTH = 512
NORM_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm1d, nn.InstanceNorm2d,
              nn.InstanceNorm3d, nn.LayerNorm)


class AdaptiveConcatPool2d(nn.Module):
    """fastai's AdaptiveConcatPool2d(1): max pool then average pool, concatenated."""

    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1)


def fastai_head(features, classes, pool):
    """fastai's create_head with lin_ftrs [512]; BatchNorm weight 1 and bias 1e-3, Linear kaiming_normal_."""
    width = 2 * features if pool else features
    layers = [AdaptiveConcatPool2d(), nn.Flatten()] if pool else []
    layers += [nn.BatchNorm1d(width), nn.Dropout(0.25), nn.Linear(width, HIDDEN_WIDTH, bias=False), nn.ReLU(inplace=True),
               nn.BatchNorm1d(HIDDEN_WIDTH), nn.Dropout(0.5), nn.Linear(HIDDEN_WIDTH, classes, bias=False)]
    head = nn.Sequential(*layers)
    for module in head.modules():
        if isinstance(module, nn.BatchNorm1d):
            nn.init.ones_(module.weight)
            nn.init.constant_(module.bias, 1e-3)
        elif isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight)
    return head


class FastaiClassifier(nn.Module):
    """The body with fastai's head. A body that returns a feature map (ConvNeXt) is pooled by the head; the others
    (ViT, Swin, SwinV2) hand over timm's own pooled pre-logits, as under timm 0.6, which the notebook used."""

    def __init__(self, body, classes, pool):
        super().__init__()
        self.body = body
        self.pool = pool
        self.head = fastai_head(body.num_features, classes, pool)

    def forward(self, x):
        features = self.body.forward_features(x)
        if not self.pool:
            features = self.body.forward_head(features, pre_logits=True)
        return self.head(features)

    def parameter_groups(self):
        """fastai's split for timm models, [body, head]; each parameter with whether weight decay applies to it."""
        exempt = set()
        for module in self.modules():
            for name, parameter in module.named_parameters(recurse=False):
                if isinstance(module, NORM_TYPES) or name == "bias":
                    exempt.add(id(parameter))
        return [[(p, id(p) not in exempt) for p in part.parameters()] for part in (self.body, self.head)]


def debias(mom, damp, step):
    return damp * (1 - mom ** step) / (1 - mom)


class FastaiAdam:
    """fastai's Adam: decoupled weight decay before the step, grad_avg with dampening, eps after the square root,
    bias correction with the current beta1. ``param_groups`` lets torch's GradScaler unscale its gradients."""

    def __init__(self, groups, lr=1e-3, mom=0.9, sqr_mom=0.99, eps=1e-5, wd=0.01):
        self.groups = groups
        self.hypers = [dict(lr=lr, mom=mom, wd=wd) for _ in groups]
        self.sqr_mom = sqr_mom
        self.eps = eps
        self.state = {}

    @property
    def param_groups(self):
        return [{"params": [p for p, _ in group]} for group in self.groups]

    @torch.no_grad()
    def step(self):
        for group, hyper in zip(self.groups, self.hypers):
            lr, mom, wd = hyper["lr"], hyper["mom"], hyper["wd"]
            for p, decays in group:
                if p.grad is None or not p.requires_grad:
                    continue
                if decays and wd != 0:
                    p.mul_(1 - lr * wd)
                state = self.state.setdefault(p, {"grad_avg": torch.zeros_like(p), "sqr_avg": torch.zeros_like(p), "step": 0})
                state["grad_avg"].mul_(mom).add_(p.grad, alpha=1 - mom)
                state["sqr_avg"].mul_(self.sqr_mom).addcmul_(p.grad, p.grad, value=1 - self.sqr_mom)
                state["step"] += 1
                debias1 = debias(mom, 1 - mom, state["step"])
                debias2 = debias(self.sqr_mom, 1 - self.sqr_mom, state["step"])
                p.addcdiv_(state["grad_avg"], (state["sqr_avg"] / debias2).sqrt() + self.eps, value=-lr / debias1)

    @torch.no_grad()
    def zero_grad(self):
        for group in self.groups:
            for p, _ in group:
                if p.grad is not None:
                    p.grad.detach_()
                    p.grad.zero_()


def grad_scaler(enabled):
    """torch.amp.GradScaler('cuda') where this torch has it (2.3+), else torch.cuda.amp.GradScaler."""
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


class FastaiStep:
    """One micro-batch of fastai's loop with GradientAccumulation(n_acc) and MixedPrecision: the loss under autocast,
    loss_grad /= n_acc/bs, scaled, backward; once n_acc samples are in, GradScaler.step (unscale, one finite check,
    Adam unless it overflowed), update, zero_grad. Returns whether the optimizer stepped."""

    def __init__(self, model, optimizer, accumulation_samples, precision, device_type):
        self.model = model
        self.optimizer = optimizer
        self.accumulation_samples = accumulation_samples
        self.half = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
        self.device_type = device_type
        self.scaler = grad_scaler(enabled=precision == "fp16" and device_type == "cuda")
        self.count = 0
        self.stepped = False

    def autocast(self):
        if self.half is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.half)

    def __call__(self, images, targets):
        size = targets.shape[0]
        with self.autocast():
            predictions = self.model(images)
        loss = F.cross_entropy(predictions.float(), targets)
        self.scaler.scale(loss / (self.accumulation_samples / size)).backward()
        self.count += size
        if self.count < self.accumulation_samples:
            return False
        self.count = 0
        self.stepped = False
        self.scaler.step(self)
        self.scaler.update()
        self.optimizer.zero_grad()
        return self.stepped

    # fastai's MixedPrecision hands itself to GradScaler.step as the optimizer; so does this.
    @property
    def param_groups(self):
        return self.optimizer.param_groups

    def step(self):
        self.optimizer.step()
        self.stepped = True

    def loss_scale(self):
        return self.scaler.get_scale() if self.scaler.is_enabled() else None

"""CPU checks of the PyTorch reference without timm (python3 -m unittest discover -s benchmarks/pytorch):
fastai's Adam against numbers worked out by hand, accumulation against one large batch, the fastai head, and the
benchmark's measurement on a small body. Needs torch only (Debian: apt-get install python3-torch)."""
import argparse
import math
import os
import sys
import unittest

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_step  # noqa: E402
from fastai_parts import FastaiAdam, FastaiClassifier, FastaiStep  # noqa: E402


class TinyBody(nn.Module):
    """timm's interface in miniature: forward_features gives a feature map, forward_head pools it."""

    num_features = 8

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.norm = nn.LayerNorm(8)

    def forward_features(self, x):
        return self.stem(x)

    def forward_head(self, x, pre_logits=False):
        return self.norm(x.mean((2, 3)))


class FastaiAdamTests(unittest.TestCase):
    def test_one_step_matches_the_formula_worked_by_hand(self):
        # lr 0.1, beta1 0.9, beta2 0.99, wd 0.01: after one step grad_avg/debias1 = g and sqr_avg/debias2 = g^2,
        # so p <- p * (1 - 0.1 * 0.01) - 0.1 * g / (|g| + 1e-5); a bias is not decayed.
        weight = nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
        bias = nn.Parameter(torch.tensor([3.0], dtype=torch.float64))
        weight.grad = torch.tensor([0.5, 0.25], dtype=torch.float64)
        bias.grad = torch.tensor([-4.0], dtype=torch.float64)
        FastaiAdam([[(weight, True), (bias, False)]], lr=0.1).step()
        self.assertAlmostEqual(weight[0].item(), 0.999 - 0.1 * 0.5 / 0.50001, places=12)
        self.assertAlmostEqual(weight[1].item(), -1.998 - 0.1 * 0.25 / 0.25001, places=12)
        self.assertAlmostEqual(bias[0].item(), 3.0 + 0.1 * 4.0 / 4.00001, places=12)

    def test_second_step_uses_fastai_debiasing(self):
        p = nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
        adam = FastaiAdam([[(p, False)]], lr=0.1)
        p.grad = torch.tensor([1.0], dtype=torch.float64)
        adam.step()
        p.grad = torch.tensor([-1.0], dtype=torch.float64)
        before = p.item()
        adam.step()
        grad_avg = 0.9 * 0.1 + 0.1 * -1.0
        sqr_avg = 0.99 * 0.01 + 0.01 * 1.0
        debias1, debias2 = 1 - 0.9 ** 2, 1 - 0.99 ** 2
        expected = before - 0.1 / debias1 * grad_avg / (math.sqrt(sqr_avg / debias2) + 1e-5)
        self.assertAlmostEqual(p.item(), expected, places=12)


class FastaiStepTests(unittest.TestCase):
    def test_two_micro_batches_step_as_one_batch_of_their_samples(self):
        torch.manual_seed(1)
        images, targets = torch.randn(8, 5), torch.randint(0, 3, (8,))
        accumulated, whole = nn.Linear(5, 3), nn.Linear(5, 3)
        whole.load_state_dict(accumulated.state_dict())
        step = FastaiStep(accumulated, FastaiAdam([[(p, True) for p in accumulated.parameters()]]), 8, "fp32", "cpu")
        self.assertFalse(step(images[:4], targets[:4]))
        self.assertTrue(step(images[4:], targets[4:]))
        FastaiStep(whole, FastaiAdam([[(p, True) for p in whole.parameters()]]), 8, "fp32", "cpu")(images, targets)
        for a, b in zip(accumulated.parameters(), whole.parameters()):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
        self.assertTrue(all((p.grad == 0).all() for p in accumulated.parameters()))

    def test_bfloat16_steps_on_the_cpu_and_changes_every_trainable_parameter(self):
        torch.manual_seed(2)
        model = FastaiClassifier(TinyBody(), classes=4, pool=True)
        before = [p.detach().clone() for p in model.parameters()]
        step = FastaiStep(model, FastaiAdam(model.parameter_groups()), 8, "bf16", "cpu")
        for _ in range(2):
            step(torch.randn(4, 3, 16, 16), torch.randint(0, 4, (4,)))
        unchanged = [i for i, (a, p) in enumerate(zip(before, model.parameters())) if torch.equal(a, p)]
        # The body's LayerNorm is not on the pooled path: its parameters get no gradient and stay as they were.
        self.assertEqual(unchanged, [2, 3])


class HeadTests(unittest.TestCase):
    def test_pooled_head_sees_twice_the_features_and_fastai_initialisation(self):
        model = FastaiClassifier(TinyBody(), classes=4, pool=True)
        first_norm = model.head[2]
        self.assertEqual(first_norm.num_features, 16)
        self.assertTrue(torch.equal(first_norm.weight, torch.ones(16)))
        self.assertTrue(torch.equal(first_norm.bias, torch.full((16,), 1e-3)))
        self.assertEqual(model(torch.randn(2, 3, 8, 8)).shape, (2, 4))

    def test_norm_parameters_and_module_biases_are_not_decayed(self):
        model = FastaiClassifier(TinyBody(), classes=4, pool=False)
        names = {id(p): n for n, p in model.named_parameters()}
        body, head = model.parameter_groups()
        exempt = sorted(names[id(p)] for p, decays in body + head if not decays)
        self.assertEqual(exempt, ["body.norm.bias", "body.norm.weight", "body.stem.bias",
                                  "head.0.bias", "head.0.weight", "head.4.bias", "head.4.weight"])


class MeasureTests(unittest.TestCase):
    def test_cpu_measurement_times_the_timed_micro_batches_and_reads_vmhwm(self):
        original = train_step.build
        train_step.build = lambda name, device: (FastaiClassifier(TinyBody(), 10, pool=True).to(device), 16, 12)
        try:
            args = train_step.resolve(argparse.Namespace(
                device="cpu", models="tiny", micro_batch=None, accumulate=None, warmup=None, timed=None, precision=None,
                cudnn_benchmark=False, one="tiny_body"))
            record = train_step.measure(args)
        finally:
            train_step.build = original
        self.assertEqual((record["micro_batch"], record["accumulation_samples"], record["precision"]), (4, 8, "bf16"))
        self.assertEqual(record["optimizer_steps_timed"], 2)  # 4 timed micro-batches of 4, a step per 8 samples
        self.assertAlmostEqual(record["images_per_second"], 16 / record["seconds"])
        self.assertGreater(record["peak_process_memory_bytes"], 10 * 2**20)
        self.assertIn("VmHWM", record["peak_memory_source"])


if __name__ == "__main__":
    unittest.main()

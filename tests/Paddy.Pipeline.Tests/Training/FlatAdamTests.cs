using Paddy.Pipeline.Models;
using Paddy.Pipeline.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

/// <summary>The flat-buffer FastaiAdam against fastai's per-element formulas computed in double precision.</summary>
[Collection(TrainingCollection.Name)]
public sealed class FlatAdamTests
{
    private sealed class Oracle(float[] values, bool decayed)
    {
        private readonly double[] p = values.Select(v => (double)v).ToArray();
        private readonly double[] m = new double[values.Length];
        private readonly double[] v = new double[values.Length];
        private int step;

        public double[] Values => p;

        public void Step(float[] gradient, double lr, double beta1, double wd)
        {
            step++;
            double debias1 = 1 - Math.Pow(beta1, step), debias2 = 1 - Math.Pow(0.99, step);
            for (int i = 0; i < p.Length; i++)
            {
                if (decayed) p[i] *= 1 - lr * wd;
                m[i] = beta1 * m[i] + (1 - beta1) * gradient[i];
                v[i] = 0.99 * v[i] + 0.01 * gradient[i] * gradient[i];
                p[i] -= lr * (m[i] / debias1) / (Math.Sqrt(v[i] / debias2) + 1e-5);
            }
        }
    }

    private static void Backward(Parameter parameter, float[] gradient)
    {
        using var g = tensor(gradient).view(parameter.shape);
        using var loss = (parameter * g).sum();
        loss.backward();
    }

    [Fact]
    public void Two_groups_with_weight_decay_and_exempt_parameters_follow_fastai_over_several_steps()
    {
        var random = new Random(3);
        float[] Draw(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
        var shapes = new[] { ("body.w", new long[] { 3, 4 }, false), ("body.norm", [4], true), ("body.b", [4], true), ("head.w", [2, 4], false), ("head.b", [2], true) };
        var parameters = shapes.Select(s => new Parameter(tensor(Draw((int)s.Item2.Aggregate(1L, (a, b) => a * b), 1)).view(s.Item2))).ToArray();
        var trainables = shapes.Select((s, i) => new TrainableParameter(s.Item1, parameters[i], IsNorm: s.Item1.Contains("norm"), IsBias: s.Item1.EndsWith(".b"))).ToArray();
        var oracles = trainables.Select(t => new Oracle(t.Parameter.data<float>().ToArray(), !t.ExemptFromWeightDecay)).ToArray();
        using var adam = new FastaiAdam([new ParameterGroup("body", trainables[..3]), new ParameterGroup("head", trainables[3..])], weightDecay: 0.01);

        for (int step = 0; step < 6; step++)
        {
            double beta1 = 0.95 - 0.02 * step;
            double[] lrs = [1e-3 * (step + 1), 1e-2 * (step + 1)];
            for (int g = 0; g < 2; g++)
            {
                adam.Hyperparameters[g].LearningRate = lrs[g];
                adam.Hyperparameters[g].Beta1 = beta1;
            }
            adam.ZeroGrad();
            for (int i = 0; i < parameters.Length; i++)
            {
                var gradient = Draw((int)parameters[i].numel(), 0.5);
                Backward(parameters[i], gradient);
                oracles[i].Step(gradient, lrs[i < 3 ? 0 : 1], beta1, 0.01);
            }
            adam.Step();

            for (int i = 0; i < parameters.Length; i++)
            {
                var actual = parameters[i].data<float>().ToArray();
                for (int k = 0; k < actual.Length; k++)
                    Assert.True(Math.Abs(actual[k] - oracles[i].Values[k]) < 1e-6,
                        $"step {step}, {trainables[i].Name}[{k}]: {actual[k]} vs fastai {oracles[i].Values[k]}");
            }
        }
        Assert.All(adam.State.Values, s => Assert.Equal(6, s.Step));
        Assert.Equal(5, adam.State.Count);
    }

    [Fact]
    public void Gradients_become_views_of_the_flat_buffer_so_backward_and_zero_grad_reach_it()
    {
        var a = new Parameter(tensor(new[] { 1f, 2f }));
        var b = new Parameter(tensor(new[] { 3f }));
        using var adam = new FastaiAdam([new ParameterGroup("only", [new("a", a, false, false), new("b", b, false, true)])], weightDecay: 0);
        Backward(a, [1f, 1f]);
        Backward(b, [1f]);
        adam.Step();

        adam.ZeroGrad();
        Backward(a, [0.25f, -0.5f]);
        Backward(b, [2f]);

        var flat = Assert.Single(adam.StepGradients());
        Assert.Equal(new[] { 0.25f, -0.5f, 2f }, flat.data<float>().ToArray());
        adam.ZeroGrad();
        Assert.Equal(new[] { 0f, 0f }, a.grad!.data<float>().ToArray());
        Assert.Equal(new[] { 0f, 0f, 0f }, flat.data<float>().ToArray());
    }
}

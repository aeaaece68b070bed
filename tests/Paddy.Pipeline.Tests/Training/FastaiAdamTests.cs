using Paddy.Pipeline.Models;
using Paddy.Pipeline.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class FastaiAdamTests
{
    private static void SetGradient(Parameter parameter, float[] gradient)
    {
        parameter.grad?.zero_();
        using var g = tensor(gradient);
        using var loss = (parameter * g).sum();
        loss.backward();
    }

    private static ParameterGroup Group(params TrainableParameter[] parameters) => new("only", parameters);

    [Fact]
    public void One_step_and_a_second_with_another_beta1_match_hand_computed_values()
    {
        var p = new Parameter(tensor(new[] { 1.0f, -2.0f }));
        using var adam = new FastaiAdam([Group(new TrainableParameter("p", p, false, false))], weightDecay: 0.01);
        adam.Hyperparameters[0].LearningRate = 0.1;
        adam.Hyperparameters[0].Beta1 = 0.9;
        SetGradient(p, [0.5f, 0.1f]);

        adam.Step();

        // p*(1-0.1*0.01); m = 0.1g, v = 0.01g^2; debias 0.1 and 0.01 give m^ = g, v^ = g^2;
        // p -= 0.1 * g / (|g| + 1e-5).
        var afterOne = p.data<float>().ToArray();
        Assert.Equal(0.999 - 0.1 * 0.5 / 0.50001, afterOne[0], 6);
        Assert.Equal(-1.998 - 0.1 * 0.1 / 0.10001, afterOne[1], 6);

        adam.Hyperparameters[0].LearningRate = 0.05;
        adam.Hyperparameters[0].Beta1 = 0.8;
        SetGradient(p, [-0.25f, 0.3f]);
        adam.Step();

        // Step 2: m = 0.8*m1 + 0.2*g2, v = 0.99*v1 + 0.01*g2^2, debiased with the CURRENT beta1: 1 - 0.8^2.
        double[] g1 = [0.5, 0.1], g2 = [-0.25, 0.3];
        for (int i = 0; i < 2; i++)
        {
            double m = 0.8 * (0.1 * g1[i]) + 0.2 * g2[i];
            double v = 0.99 * (0.01 * g1[i] * g1[i]) + 0.01 * g2[i] * g2[i];
            double expected = afterOne[i] * (1 - 0.05 * 0.01) - 0.05 * (m / (1 - 0.64)) / (Math.Sqrt(v / (1 - 0.9801)) + 1e-5);
            Assert.Equal(expected, p.data<float>()[i], 5);
        }
        Assert.Equal(2, adam.State["p"].Step);
        Assert.Equal(ScalarType.Float32, adam.State["p"].GradAverage.dtype);
    }

    [Fact]
    public void Weight_decay_shrinks_non_exempt_parameters_by_exactly_lr_times_wd_and_spares_exempt_ones()
    {
        var weight = new Parameter(tensor(new[] { 0.7f, -1.3f }));
        var bias = new Parameter(tensor(new[] { 0.7f, -1.3f }));
        var norm = new Parameter(tensor(new[] { 0.7f, -1.3f }));
        using var adam = new FastaiAdam([Group(
            new TrainableParameter("w", weight, IsNorm: false, IsBias: false),
            new TrainableParameter("b", bias, IsNorm: false, IsBias: true),
            new TrainableParameter("n", norm, IsNorm: true, IsBias: false))], weightDecay: 0.5);
        adam.Hyperparameters[0].LearningRate = 0.1;
        foreach (var parameter in new[] { weight, bias, norm }) SetGradient(parameter, [0f, 0f]);

        adam.Step();

        // A zero gradient leaves Adam's update at 0, so only weight decay moves a parameter: p * (1 - 0.1*0.5).
        float factor = (float)(1 - 0.1 * 0.5);
        Assert.Equal(new[] { 0.7f * factor, -1.3f * factor }, weight.data<float>().ToArray());
        Assert.Equal(new[] { 0.7f, -1.3f }, bias.data<float>().ToArray());
        Assert.Equal(new[] { 0.7f, -1.3f }, norm.data<float>().ToArray());
    }

    [Fact]
    public void Frozen_parameters_are_neither_stepped_nor_decayed()
    {
        var frozen = new Parameter(tensor(new[] { 0.7f, -1.3f }));
        using var adam = new FastaiAdam([Group(new TrainableParameter("f", frozen, false, false))], weightDecay: 0.5);
        SetGradient(frozen, [1f, 1f]);
        frozen.requires_grad = false;

        adam.Step();

        Assert.Equal(new[] { 0.7f, -1.3f }, frozen.data<float>().ToArray());
        Assert.Empty(adam.State);
    }
}

using System.Globalization;
using Paddy.Pipeline.Data;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Training.Callbacks;
using Paddy.Pipeline.Training.Checkpoints;
using Paddy.Pipeline.Training.History;
using Paddy.Pipeline.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training;

/// <summary>
/// fastai's Learner: a small loop over epochs and batches that fires <see cref="TrainingEvent"/>s; everything
/// else (schedules, accumulation, mixed precision, metrics, progress, checkpoints) is a <see cref="Callback"/>.
/// The loss is cross entropy on float32 logits; training runs in train mode, validation in eval mode without
/// gradients. The loop's state (epoch, batch, predictions, loss) is public for callbacks, as learn.* is in fastai.
/// </summary>
public sealed class Learner : IDisposable
{
    private readonly List<Callback> callbacks = [];
    private readonly LearnerOptions options;
    private readonly CheckpointStore checkpoints;
    private CancellationToken cancellation;

    public Learner(nn.Module<Tensor, Tensor> model, IBatchLoader trainLoader, IBatchLoader validLoader, LearnerOptions options)
    {
        if (model is not IHasParameterGroups grouped)
            throw new ArgumentException(
                $"The learner needs a model split into parameter groups, but {model.GetType().Name} does not implement IHasParameterGroups. Wrap it in a classifier that does (body, head).",
                nameof(model));
        Groups = grouped.ParameterGroups();
        var duplicate = Groups.SelectMany(g => g.Parameters).GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"{model.GetType().Name} lists the parameter '{duplicate.Key}' more than once in its groups; each parameter needs one unique name.", nameof(model));
        if (options.AccumulationSamples < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.AccumulationSamples, "AccumulationSamples is 0 (no accumulation) or a positive number of samples.");

        Model = model;
        TrainLoader = trainLoader;
        ValidLoader = validLoader;
        this.options = options;
        checkpoints = new CheckpointStore(options.WorkFolder);
        Optimizer = new FastaiAdam(Groups, options.WeightDecay);
        Recorder = new Recorder(Groups.Select(g => g.Name).ToList());
        Add(Recorder);
        Add(new ProgressPrinter(options.Output, options.LiveProgress ?? IsInteractiveConsole(options.Output)));
        if (options.AccumulationSamples > 0) Add(new GradientAccumulation(options.AccumulationSamples));
        if (options.MixedPrecision is { } halfType) Add(new MixedPrecision(halfType));
    }

    public nn.Module<Tensor, Tensor> Model { get; }
    public IReadOnlyList<ParameterGroup> Groups { get; }
    public FastaiAdam Optimizer { get; }
    public IBatchLoader TrainLoader { get; }
    public IBatchLoader ValidLoader { get; }
    public Recorder Recorder { get; }
    public TrainingHistory History => Recorder.History;
    public IReadOnlyList<Callback> Callbacks => callbacks;
    public string CheckpointPath => checkpoints.FilePath;

    public TrainingPhase Phase { get; private set; } = TrainingPhase.Unfrozen;

    /// <summary>Epochs of the current fit (fastai's n_epoch).</summary>
    public int EpochCount { get; private set; }

    public int Epoch { get; private set; }

    /// <summary>Index of the batch within the current pass.</summary>
    public int Iteration { get; private set; }

    /// <summary>Batches of the loader of the current pass (fastai's n_iter).</summary>
    public int BatchesPerEpoch { get; private set; }

    /// <summary>Training batches done in the current fit, cancelled ones included (fastai's train_iter).</summary>
    public long TrainIteration { get; internal set; }

    public bool Training { get; private set; }

    /// <summary>fastai's pct_train: where the current training batch sits in the fit, from 0 to 1.</summary>
    public double TrainingPosition =>
        (Epoch * (double)TrainLoader.BatchesPerEpoch + Iteration) / (EpochCount * (double)TrainLoader.BatchesPerEpoch);

    public Batch? Batch { get; private set; }

    /// <summary>The model's output for the current batch; callbacks may replace it after the forward pass.</summary>
    public Tensor? Predictions { get; set; }

    /// <summary>The detached loss of the current batch, as computed (before any scaling).</summary>
    public Tensor? Loss { get; private set; }

    /// <summary>The loss that backward runs on; callbacks scale it (accumulation, loss scaling).</summary>
    public Tensor? LossGrad { get; set; }

    public void Add(Callback callback)
    {
        callback.Attach(this);
        int index = callbacks.FindLastIndex(c => c.Order <= callback.Order);
        callbacks.Insert(index + 1, callback);
    }

    public void Remove(Callback callback) => callbacks.Remove(callback);

    /// <summary>
    /// fastai's fine_tune: the body frozen for freezeEpochs at slice(baseLr) with pct_start 0.99, then everything
    /// for epochs at slice(baseLr/2/lrMult, baseLr/2). A checkpoint in the work folder from the same plan is
    /// resumed after its last finished epoch; the result is bitwise the one of an uninterrupted run.
    /// </summary>
    public void FineTune(int epochs, double baseLr, int freezeEpochs = 1, double lrMult = 100, double pctStart = 0.3,
        double div = 5.0, CancellationToken cancellation = default)
    {
        var plan = string.Create(CultureInfo.InvariantCulture,
            $"fine_tune(epochs={epochs}, base_lr={baseLr:R}, freeze_epochs={freezeEpochs}, lr_mult={lrMult:R}, pct_start={pctStart:R}, div={div:R}, wd={options.WeightDecay:R}) n_acc={options.AccumulationSamples} precision={options.MixedPrecision?.ToString() ?? "Float32"} seed={options.Seed} train={TrainLoader.ItemCount}x{TrainLoader.BatchSize}/{TrainLoader.BatchesPerEpoch} valid={ValidLoader.ItemCount}");
        using var resume = checkpoints.LoadIfPresent(plan);
        if (resume is not null)
            options.Output.WriteLine($"Resuming from {checkpoints.FilePath}: {resume.EpochsDone} {TrainingHistory.PhaseName(resume.Phase)} epoch(s) already done.");
        var checkpointing = new CheckpointCallback(checkpoints, plan, resume);
        if (resume is not { Phase: TrainingPhase.Unfrozen })
        {
            Freeze();
            FitOneCycle(freezeEpochs, LrSlice.Upto(baseLr), 25, 1e5, 0.99, DefaultMoms, options.WeightDecay,
                resume?.EpochsDone ?? 0, checkpointing, cancellation);
        }
        double halfLr = baseLr / 2;
        Unfreeze();
        FitOneCycle(epochs, LrSlice.Between(halfLr / lrMult, halfLr), div, 1e5, pctStart, DefaultMoms, options.WeightDecay,
            resume is { Phase: TrainingPhase.Unfrozen } ? resume.EpochsDone : 0, checkpointing, cancellation);
    }

    /// <summary>fastai's fit_one_cycle; moms defaults to (0.95, 0.85, 0.95). Writes no checkpoint.</summary>
    public void FitOneCycle(int epochs, LrSlice lrMax, double div = 25, double divFinal = 1e5, double pctStart = 0.25,
        (double Start, double Middle, double End)? moms = null, double wd = 0.01, CancellationToken cancellation = default) =>
        FitOneCycle(epochs, lrMax, div, divFinal, pctStart, moms ?? DefaultMoms, wd, 0, null, cancellation);

    /// <summary>Freezes every group but the last, except norm-layer parameters (fastai's train_bn); clears Adam's state.</summary>
    public void Freeze()
    {
        if (Groups.Count < 2)
            throw new InvalidOperationException($"Freezing needs a body and a head, but the model has {Groups.Count} parameter group(s).");
        SetTrainable(frozenGroups: Groups.Count - 1);
        Phase = TrainingPhase.Frozen;
    }

    /// <summary>Makes every parameter trainable; clears Adam's state.</summary>
    public void Unfreeze()
    {
        SetTrainable(frozenGroups: 0);
        Phase = TrainingPhase.Unfrozen;
    }

    /// <summary>
    /// Softmax probabilities (float32 [N, C], on the CPU) and targets (int64 [N]) for one pass of a loader, in eval
    /// mode without gradients, under the mixed-precision type when one is set (fastai's get_preds).
    /// </summary>
    public (Tensor Probabilities, Tensor Targets) GetPreds(IBatchLoader loader, int epoch = 0)
    {
        using var scope = NewDisposeScope();
        var probabilities = new List<Tensor>();
        var targets = new List<Tensor>();
        foreach (var batch in loader.Epoch(epoch))
        {
            using (batch)
            {
                probabilities.Add(nn.functional.softmax(Logits(batch.Images), 1).cpu());
                targets.Add(batch.Targets.detach().cpu());
            }
        }
        if (probabilities.Count == 0)
            throw new InvalidOperationException($"The loader gave no batches for epoch {epoch} ({loader.ItemCount} items); there is nothing to predict.");
        return (cat(probabilities, 0).MoveToOuterDisposeScope(), cat(targets, 0).MoveToOuterDisposeScope());
    }

    /// <summary>Float32 logits for a batch of images, in eval mode, without gradients, under the mixed-precision type when set.</summary>
    public Tensor Logits(Tensor images)
    {
        Model.eval();
        using var noGrad = no_grad();
        using var autocast = options.MixedPrecision is { } halfType ? Autocast.Enable(halfType) : null;
        return Autocast.ToFloat32(Model.forward(images));
    }

    /// <summary>Deletes the resume checkpoint; call it once the trained model has been saved elsewhere.</summary>
    public void DeleteCheckpoint() => checkpoints.Delete();

    public void Dispose() => Optimizer.Dispose();

    internal static (double Start, double Middle, double End) DefaultMoms => (0.95, 0.85, 0.95);

    private void FitOneCycle(int epochs, LrSlice lrMax, double div, double divFinal, double pctStart,
        (double Start, double Middle, double End) moms, double wd, int startEpoch, Callback? checkpointing, CancellationToken token)
    {
        if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Train for at least one epoch.");
        if (!(pctStart >= 0 && pctStart < 1)) throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pct_start lies in [0, 1).");
        var schedule = new OneCycleSchedule(lrMax.ForGroups(Groups.Count), div, divFinal, pctStart, moms);
        foreach (var hyper in Optimizer.Hyperparameters) hyper.WeightDecay = wd;
        var fitCallbacks = new List<Callback> { new OneCycleScheduler(schedule) };
        if (checkpointing is not null) fitCallbacks.Add(checkpointing);
        Fit(epochs, startEpoch, fitCallbacks, token);
    }

    private void Fit(int epochCount, int startEpoch, IReadOnlyList<Callback> fitCallbacks, CancellationToken token)
    {
        foreach (var callback in fitCallbacks) Add(callback);
        cancellation = token;
        try
        {
            EpochCount = epochCount;
            Epoch = startEpoch;
            TrainIteration = 0;
            WithEvents<CancelFitException>(() =>
            {
                for (int epoch = startEpoch; epoch < epochCount; epoch++)
                {
                    Epoch = epoch;
                    SeedEpoch();
                    WithEvents<CancelEpochException>(DoEpoch, TrainingEvent.BeforeEpoch, TrainingEvent.AfterCancelEpoch, TrainingEvent.AfterEpoch);
                }
            }, TrainingEvent.BeforeFit, TrainingEvent.AfterCancelFit, TrainingEvent.AfterFit);
        }
        finally
        {
            foreach (var callback in fitCallbacks) Remove(callback);
            cancellation = default;
        }
    }

    private void DoEpoch()
    {
        Training = true;
        Model.train();
        WithEvents<CancelTrainException>(() => AllBatches(TrainLoader), TrainingEvent.BeforeTrain, TrainingEvent.AfterCancelTrain, TrainingEvent.AfterTrain);
        Training = false;
        Model.eval();
        using var noGrad = no_grad();
        WithEvents<CancelValidateException>(() => AllBatches(ValidLoader), TrainingEvent.BeforeValidate, TrainingEvent.AfterCancelValidate, TrainingEvent.AfterValidate);
    }

    private void AllBatches(IBatchLoader loader)
    {
        BatchesPerEpoch = loader.BatchesPerEpoch;
        Iteration = 0;
        foreach (var batch in loader.Epoch(Epoch))
        {
            using (batch) OneBatch(batch);
            Iteration++;
        }
    }

    private void OneBatch(Batch batch)
    {
        cancellation.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        Batch = batch;
        try
        {
            WithEvents<CancelBatchException>(DoOneBatch, TrainingEvent.BeforeBatch, TrainingEvent.AfterCancelBatch, TrainingEvent.AfterBatch);
            if (Training) TrainIteration++;
        }
        finally
        {
            Batch = null;
            Predictions = null;
            Loss = null;
            LossGrad = null;
        }
    }

    private void DoOneBatch()
    {
        var batch = Batch!;
        Predictions = Model.forward(batch.Images);
        Fire(TrainingEvent.AfterPred);
        LossGrad = nn.functional.cross_entropy(Autocast.ToFloat32(Predictions), batch.Targets);
        Loss = LossGrad.detach().clone();
        Fire(TrainingEvent.AfterLoss);
        if (!Training) return;
        WithEvents<CancelBackwardException>(() => LossGrad!.backward(), TrainingEvent.BeforeBackward, TrainingEvent.AfterCancelBackward, TrainingEvent.AfterBackward);
        WithEvents<CancelStepException>(Optimizer.Step, TrainingEvent.BeforeStep, TrainingEvent.AfterCancelStep, TrainingEvent.AfterStep);
        Optimizer.ZeroGrad();
    }

    private void WithEvents<TCancel>(Action body, TrainingEvent before, TrainingEvent afterCancel, TrainingEvent after)
        where TCancel : CancelStageException
    {
        try
        {
            Fire(before);
            body();
        }
        catch (TCancel)
        {
            Fire(afterCancel);
        }
        Fire(after);
    }

    private void Fire(TrainingEvent trainingEvent)
    {
        foreach (var callback in callbacks.ToArray()) callback.Handle(trainingEvent);
    }

    // Dropout draws from torch's global generator; reseeding it per (seed, phase, epoch) lets a resumed epoch
    // draw exactly what the uninterrupted epoch drew.
    private void SeedEpoch()
    {
        long seed = unchecked(options.Seed * 1_000_003L + (long)Phase * 1_009L + Epoch);
        manual_seed(seed);
        if (cuda.is_available()) cuda.manual_seed_all(seed);
    }

    private void SetTrainable(int frozenGroups)
    {
        for (int g = 0; g < Groups.Count; g++)
            foreach (var trainable in Groups[g].Parameters)
                trainable.Parameter.requires_grad = g >= frozenGroups || trainable.IsNorm;
        Optimizer.ClearState();
    }

    private static bool IsInteractiveConsole(TextWriter writer) =>
        ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
}

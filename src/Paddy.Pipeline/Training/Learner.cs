using Paddy.Pipeline.Data;
using Paddy.Pipeline.Device;
using Paddy.Pipeline.Models;
using Paddy.Pipeline.Training.Callbacks;
using Paddy.Pipeline.Training.History;
using Paddy.Pipeline.Training.Optimization;
using static TorchSharp.torch;

namespace Paddy.Pipeline.Training;

/// <summary>
/// fastai's Learner: a small loop over epochs and batches that fires <see cref="TrainingEvent"/>s, and nothing
/// else. Schedules (<see cref="Schedules"/>), accumulation, mixed precision, progress, checkpoints and seeding are
/// callbacks the caller passes in; only the <see cref="Recorder"/> is always there, as in fastai. The loss is cross
/// entropy on float32 logits; training runs in train mode, validation and prediction in eval mode without
/// gradients. The loop's state (epoch, batch, predictions, loss) is public for callbacks, as learn.* is in fastai.
/// </summary>
public sealed class Learner : IDisposable
{
    private readonly List<Callback> callbacks = [];
    private CancellationToken cancellation;
    private bool withLoss = true;

    /// <param name="weightDecay">fastai's wd: the decoupled weight decay a fit uses unless told otherwise.</param>
    public Learner(nn.Module<Tensor, Tensor> model, IBatchLoader trainLoader, IBatchLoader validLoader,
        IEnumerable<Callback>? callbacks = null, double weightDecay = 0.01)
    {
        if (model is not IHasParameterGroups grouped)
            throw new ArgumentException(
                $"The learner needs a model split into parameter groups, but {model.GetType().Name} does not implement IHasParameterGroups. Wrap it in a classifier that does (body, head).",
                nameof(model));
        Groups = grouped.ParameterGroups();
        var duplicate = Groups.SelectMany(g => g.Parameters).GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"{model.GetType().Name} lists the parameter '{duplicate.Key}' more than once in its groups; each parameter needs one unique name.", nameof(model));

        Model = model;
        TrainLoader = trainLoader;
        ValidLoader = validLoader;
        WeightDecay = weightDecay;
        Optimizer = new FastaiAdam(Groups, weightDecay);
        Recorder = new Recorder(Groups.Select(g => g.Name).ToList());
        Add(Recorder);
        foreach (var callback in callbacks ?? []) Add(callback);
    }

    public nn.Module<Tensor, Tensor> Model { get; }
    public IReadOnlyList<ParameterGroup> Groups { get; }
    public FastaiAdam Optimizer { get; }
    public IBatchLoader TrainLoader { get; }
    public IBatchLoader ValidLoader { get; }
    public double WeightDecay { get; }
    public Recorder Recorder { get; }
    public TrainingHistory History => Recorder.History;
    public IReadOnlyList<Callback> Callbacks => callbacks;

    public TrainingPhase Phase { get; private set; } = TrainingPhase.Unfrozen;

    /// <summary>Epochs of the current fit (fastai's n_epoch).</summary>
    public int EpochCount { get; private set; }

    /// <summary>The epoch within the current fit; a callback resuming a fit moves it past the finished epochs in BeforeFit.</summary>
    public int Epoch { get; internal set; }

    /// <summary>Epochs of the fits this learner ran before the current one, finished or skipped.</summary>
    public int EpochsBeforeFit { get; private set; }

    /// <summary>
    /// The epoch counted over every fit of this learner, which the loaders are asked for: fastai draws a fresh shuffle
    /// and augmentation in every epoch, so the unfrozen fit's first epoch must not replay the frozen fit's.
    /// </summary>
    public int LoaderEpoch => EpochsBeforeFit + Epoch;

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

    /// <summary>The detached loss of the current batch, as computed (before any scaling); null while predicting.</summary>
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
    /// fastai's fit: <paramref name="epochs"/> epochs of training then validation, with <paramref name="fitCallbacks"/>
    /// attached for this fit only (a schedule). A callback that cancels the fit in BeforeFit skips it whole.
    /// </summary>
    public void Fit(int epochs, IReadOnlyList<Callback>? fitCallbacks = null, CancellationToken cancellation = default)
    {
        if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Train for at least one epoch.");
        fitCallbacks ??= [];
        foreach (var callback in fitCallbacks) Add(callback);
        this.cancellation = cancellation;
        try
        {
            EpochCount = epochs;
            Epoch = 0;
            TrainIteration = 0;
            WithEvents<CancelFitException>(() =>
            {
                // BeforeFit has run: a resuming callback may have moved Epoch past the finished epochs.
                for (int epoch = Epoch; epoch < EpochCount; epoch++)
                {
                    Epoch = epoch;
                    WithEvents<CancelEpochException>(DoEpoch, TrainingEvent.BeforeEpoch, TrainingEvent.AfterCancelEpoch, TrainingEvent.AfterEpoch);
                }
            }, TrainingEvent.BeforeFit, TrainingEvent.AfterCancelFit, TrainingEvent.AfterFit);
            EpochsBeforeFit += epochs;
        }
        finally
        {
            foreach (var callback in fitCallbacks) Remove(callback);
            this.cancellation = default;
        }
    }

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
    /// fastai's get_preds: one validation pass of <paramref name="loader"/> through the loop (so the callbacks'
    /// autocast applies), without a loss. Softmax probabilities (float32 [N, C], on the CPU) and targets (int64 [N]).
    /// </summary>
    public (Tensor Probabilities, Tensor Targets) GetPreds(IBatchLoader loader, int epoch = 0)
    {
        using var scope = NewDisposeScope();
        var gathered = new GatherPredictions();
        Add(gathered);
        withLoss = false;
        try
        {
            Validate(loader, epoch);
        }
        finally
        {
            withLoss = true;
            Remove(gathered);
        }
        if (gathered.Probabilities.Count == 0)
            throw new InvalidOperationException($"The loader gave no batches for epoch {epoch} ({loader.ItemCount} items); there is nothing to predict.");
        return (cat(gathered.Probabilities, 0).MoveToOuterDisposeScope(), cat(gathered.Targets, 0).MoveToOuterDisposeScope());
    }

    public void Dispose() => Optimizer.Dispose();

    private void DoEpoch()
    {
        Training = true;
        Model.train();
        WithEvents<CancelTrainException>(() => AllBatches(TrainLoader, LoaderEpoch), TrainingEvent.BeforeTrain, TrainingEvent.AfterCancelTrain, TrainingEvent.AfterTrain);
        Validate(ValidLoader, LoaderEpoch);
    }

    private void Validate(IBatchLoader loader, int loaderEpoch)
    {
        Training = false;
        Model.eval();
        using var noGrad = no_grad();
        WithEvents<CancelValidateException>(() => AllBatches(loader, loaderEpoch), TrainingEvent.BeforeValidate, TrainingEvent.AfterCancelValidate, TrainingEvent.AfterValidate);
    }

    private void AllBatches(IBatchLoader loader, int loaderEpoch)
    {
        BatchesPerEpoch = loader.BatchesPerEpoch;
        Iteration = 0;
        foreach (var batch in loader.Epoch(loaderEpoch))
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
        if (withLoss)
        {
            LossGrad = nn.functional.cross_entropy(Autocast.ToFloat32(Predictions), batch.Targets);
            Loss = LossGrad.detach().clone();
        }
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

    private void SetTrainable(int frozenGroups)
    {
        for (int g = 0; g < Groups.Count; g++)
            foreach (var trainable in Groups[g].Parameters)
                trainable.Parameter.requires_grad = g >= frozenGroups || trainable.IsNorm;
        Optimizer.ClearState();
    }
}

using Paddy.Build;
using Paddy.Build.Frosting;
using Paddy.Build.Tasks;
using Paddy.Build.Worker;

// "worker" is the child-process entry point of a Train task (see Worker/TrainWorker.cs); anything else is the build.
if (args.Length > 0 && args[0] == TrainWorker.Command)
    return await TrainWorker.RunAsync(args.Skip(1).ToList());

return await new FrostingHost<BuildContext>(
        (cake, options) => new BuildContext(cake, options.DryRun),
        context => context.Pipeline.Models.Select(TrainTask.Register),
        new BuildLifetime())
    .RunAsync(args);

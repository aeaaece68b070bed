using Cake.Cli;
using Cake.Core;
using Cake.Core.Configuration;
using Cake.Core.Diagnostics;
using Cake.Core.IO;
using Cake.Core.Packaging;
using Cake.Core.Scripting;
using Cake.Core.Tooling;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Paddy.Build.Frosting;

/// <summary>
/// A thin Cake.Frosting-compatible host on the real Cake 7 engine (Cake.Frosting itself is not served here):
/// Frosting's command line, task classes with Frosting's attributes, tasks registered at run time, and Cake's
/// own script hosts for running, --tree and --description, including Cake's end-of-run report, and a lifetime
/// (Setup/Teardown) that also runs in dry runs.
/// </summary>
public sealed class FrostingHost<TContext> where TContext : class, ICakeContext
{
    private readonly Func<ICakeContext, HostOptions, TContext> createContext;
    private readonly Func<TContext, IEnumerable<RegisteredTask>> runtimeTasks;
    private readonly FrostingLifetime<TContext> lifetime;

    /// <param name="createContext">The typed context; it must not need more than the command line (--tree runs without data).</param>
    public FrostingHost(Func<ICakeContext, HostOptions, TContext> createContext, Func<TContext, IEnumerable<RegisteredTask>> runtimeTasks,
        FrostingLifetime<TContext> lifetime)
    {
        this.createContext = createContext;
        this.runtimeTasks = runtimeTasks;
        this.lifetime = lifetime;
    }

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        HostOptions options;
        try
        {
            options = HostOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }

        var environment = new CakeEnvironment(new CakePlatform(), new CakeRuntime());
        if (options.WorkingDirectory is { } working)
            environment.WorkingDirectory = new DirectoryPath(System.IO.Path.GetFullPath(working));
        var console = new CakeConsole(environment);
        var log = new CakeBuildLog(console, options.Verbosity);
        if (options.Version)
        {
            // Cake's own VersionResolver reads the entry assembly, which here is this program, not Cake.
            var program = typeof(TContext).Assembly.GetName();
            console.WriteLine($"{program.Name} {program.Version} on Cake {typeof(CakeEngine).Assembly.GetName().Version}");
            return 0;
        }
        if (options.Info)
        {
            new InfoFeature(new VersionResolver()).Run(console);
            return 0;
        }

        TContext context;
        List<RegisteredTask> tasks;
        try
        {
            context = createContext(CreateCakeContext(environment, log, options), options);
            tasks = RegisteredTask.FromAssembly(typeof(TContext).Assembly).Concat(runtimeTasks(context)).ToList();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.Error(e.Message);
            return 1;
        }

        var target = tasks.FirstOrDefault(t => string.Equals(t.Name, options.Target, StringComparison.OrdinalIgnoreCase));
        if (target is null)
        {
            log.Error($"There is no task named '{options.Target}'. Targets: {string.Join(", ", tasks.Select(t => t.Name))}.");
            return 1;
        }

        var engine = new CakeEngine(new CakeDataService(), log);
        ScriptHost host = options switch
        {
            { Tree: true } => new TreeScriptHost(engine, context, console),
            { Description: true } => new DescriptionScriptHost(engine, context, AnsiConsole.Console),
            { DryRun: true } => new BuildScriptHost<TContext>(engine, new DryRunStrategy(log), context, new SilentReportPrinter(),
                context.Configuration, log),
            _ => new BuildScriptHost<TContext>(engine, new DefaultExecutionStrategy(log, Printer(options, console, context)),
                context, Printer(options, console, context), context.Configuration, log),
        };
        host.Setup(info => lifetime.Setup(context, info));
        host.Teardown(info => lifetime.Teardown(context, info));
        var builders = tasks.ToDictionary(t => t.Name, t => Register(host, t, isTarget: t == target), StringComparer.OrdinalIgnoreCase);
        foreach (var task in tasks)
        {
            foreach (var dependency in task.DependsOn) builders[task.Name].IsDependentOn(dependency);
            // Recorded on the dependee itself (not with Cake's IsDependeeOf) so that --tree shows the edge too.
            foreach (var dependee in task.DependeeOf) builders[dependee].IsDependentOn(task.Name);
        }
        if (options.Exclusive) host.Settings.UseExclusiveTarget();

        try
        {
            if (options.DryRun) log.Information("Dry run: nothing is trained, restored, probed or written.");
            await host.RunTargetAsync(target.Name);
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.Error(Unwrap(e).Message);
            return 1;
        }
    }

    private static CakeTaskBuilder Register(ScriptHost host, RegisteredTask task, bool isTarget)
    {
        var builder = host.Task(task.Name).Description(task.Description)
            .OnError((exception, context) => task.Task.OnError(exception, context));
        if (isTarget)
        {
            // Cake refuses to run a target whose criteria are false ("Could not reach target"), so the target
            // asks ShouldRun itself and reports the skip.
            builder.Does(async context =>
            {
                if (task.Task.ShouldRun(context)) await task.Task.RunAsync(context);
                else context.Log.Information($"{task.Name}: skipped, {task.Task.SkipReason}.");
            });
        }
        else
        {
            builder.WithCriteria(context => task.Task.ShouldRun(context), task.Task.SkipReason)
                .Does(context => task.Task.RunAsync(context));
        }
        return builder;
    }

    /// <summary>Cake's report and step headers, or nothing at all under --verbosity=quiet (errors still reach the log).</summary>
    private static ICakeReportPrinter Printer(HostOptions options, IConsole console, ICakeContext context) =>
        options.Verbosity == Verbosity.Quiet ? new SilentReportPrinter() : new CakeReportPrinter(console, context);

    private sealed class SilentReportPrinter : ICakeReportPrinter
    {
        public void Write(CakeReport report) { }
        public void WriteStep(string name, Verbosity verbosity) { }
        public void WriteLifeCycleStep(string name, Verbosity verbosity) { }
        public void WriteSkippedStep(string name, Verbosity verbosity) { }
    }

    private static CakeContext CreateCakeContext(ICakeEnvironment environment, ICakeLog log, HostOptions options)
    {
        var fileSystem = new FileSystem();
        var arguments = new CakeArguments(options.Arguments.ToLookup(a => a.Key, a => a.Value, StringComparer.OrdinalIgnoreCase));
        var configuration = new CakeConfigurationProvider(fileSystem, environment)
            .CreateConfiguration(environment.WorkingDirectory, new Dictionary<string, string>());
        var globber = new Globber(fileSystem, environment);
        var tools = new ToolLocator(environment, new ToolRepository(environment),
            new ToolResolutionStrategy(fileSystem, environment, globber, configuration, log));
        var processRunner = new ProcessRunner(fileSystem, environment, log, tools, configuration);
        return new CakeContext(fileSystem, environment, globber, log, arguments, processRunner, new WindowsRegistry(),
            tools, new CakeDataService(), configuration, new NoToolInstaller(), new ServiceCollection().BuildServiceProvider());
    }

    private static Exception Unwrap(Exception e) =>
        e is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerExceptions[0])
        : e is CakeReportException { InnerException: { } inner } ? Unwrap(inner)
        : e;

    /// <summary>Cake installs tools (#tool directives) through this; a Frosting-style program declares none.</summary>
    private sealed class NoToolInstaller : IToolInstaller
    {
        public IEnumerable<FilePath> Install(PackageReference tool) =>
            throw new NotSupportedException($"This build program installs no tools; install {tool.Package} yourself.");
    }
}

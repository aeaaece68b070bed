using Paddy.Pipeline.Benchmarks;

var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => t.IsClass && !t.IsAbstract && typeof(IBenchmark).IsAssignableFrom(t))
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

var chosen = args.Length == 0 ? null : benchmarks.FirstOrDefault(b => b.Name == args[0]);
if (chosen is null)
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project benchmarks/Paddy.Pipeline.Benchmarks -- <benchmark> [options]");
    foreach (var b in benchmarks) Console.Error.WriteLine($"  {b.Name,-10} {b.Description}");
    return args.Length == 0 ? 0 : 2;
}
chosen.Run(args.Skip(1).ToList());
return 0;

namespace Paddy.Pipeline.Benchmarks;

/// <summary>A benchmark that prints its figures; selected on the command line by <see cref="Name"/>.</summary>
public interface IBenchmark
{
    string Name { get; }
    string Description { get; }
    void Run(IReadOnlyList<string> arguments);
}

using System.Reflection;

namespace Paddy.Build.Frosting;

/// <summary>A task as the host registers it on the Cake engine, whether declared as a class or made at run time.</summary>
public sealed record RegisteredTask(
    string Name,
    IFrostingTask Task,
    string Description,
    IReadOnlyList<string> DependsOn,
    IReadOnlyList<string> DependeeOf)
{
    public static string NameOf(Type taskType) =>
        taskType.GetCustomAttribute<TaskNameAttribute>()?.Name
        ?? (taskType.Name.EndsWith("Task", StringComparison.Ordinal) ? taskType.Name[..^4] : taskType.Name);

    /// <summary>Every concrete task class with a parameterless constructor in the assembly, in name order.</summary>
    public static IEnumerable<RegisteredTask> FromAssembly(Assembly assembly) =>
        assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IFrostingTask).IsAssignableFrom(t)
                        && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => new RegisteredTask(
                NameOf(t),
                (IFrostingTask)Activator.CreateInstance(t)!,
                t.GetCustomAttribute<TaskDescriptionAttribute>()?.Description ?? "",
                t.GetCustomAttributes<IsDependentOnAttribute>().Select(a => NameOf(a.Task)).ToList(),
                t.GetCustomAttributes<IsDependeeOfAttribute>().Select(a => NameOf(a.Task)).ToList()))
            .OrderBy(t => t.Name, StringComparer.Ordinal);
}

using Cake.Core;

namespace Paddy.Build.Frosting;

/// <summary>
/// Cake.Frosting's FrostingLifetime: code that runs once before the first task (knowing which tasks will run) and once
/// after the last. The host runs Setup in dry runs too, so that a dry run can say what each task would do.
/// </summary>
public abstract class FrostingLifetime<TContext> where TContext : ICakeContext
{
    public virtual void Setup(TContext context, ISetupContext info) { }

    public virtual void Teardown(TContext context, ITeardownContext info) { }
}

using Cake.Core.Diagnostics;

namespace Paddy.Build.Frosting;

/// <summary>Frosting's command line: its own switches, and every other --key=value as a Cake argument.</summary>
public sealed record HostOptions(
    string Target,
    Verbosity Verbosity,
    bool DryRun,
    bool Exclusive,
    bool Tree,
    bool Description,
    bool Version,
    bool Info,
    string? WorkingDirectory,
    IReadOnlyList<KeyValuePair<string, string>> Arguments)
{
    public static HostOptions Parse(IReadOnlyList<string> args)
    {
        string target = "Default";
        var verbosity = Verbosity.Normal;
        bool dryRun = false, exclusive = false, tree = false, description = false, version = false, info = false;
        string? working = null;
        var arguments = new List<KeyValuePair<string, string>>();
        for (int i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-'))
                throw new ArgumentException($"Unexpected argument '{arg}'. Options look like --target=Submit or --pipeline=pipeline.yaml.");
            var body = arg.TrimStart('-');
            string key = body, value = "true";
            bool hasValue = false;
            var equals = body.IndexOf('=');
            if (equals >= 0)
            {
                key = body[..equals];
                value = body[(equals + 1)..];
                hasValue = true;
            }
            string TakeValue()
            {
                if (hasValue) return value;
                if (i + 1 < args.Count && !args[i + 1].StartsWith('-')) return args[++i];
                throw new ArgumentException($"Option {arg} needs a value, for example {arg}=<value>.");
            }
            switch (key.ToLowerInvariant())
            {
                case "target" or "t": target = TakeValue(); break;
                case "verbosity" or "v": verbosity = ParseVerbosity(TakeValue()); break;
                case "working" or "w": working = TakeValue(); break;
                case "dryrun" or "noop" or "whatif": dryRun = true; break;
                case "exclusive" or "e": exclusive = true; break;
                case "tree" or "showtree": tree = true; break;
                case "description" or "showdescription": description = true; break;
                case "version" or "ver": version = true; break;
                case "info": info = true; break;
                default: arguments.Add(new(key, value)); break;
            }
        }
        return new HostOptions(target, verbosity, dryRun, exclusive, tree, description, version, info, working, arguments);
    }

    private static Verbosity ParseVerbosity(string text) => text.ToLowerInvariant() switch
    {
        "q" or "quiet" => Verbosity.Quiet,
        "m" or "minimal" => Verbosity.Minimal,
        "n" or "normal" => Verbosity.Normal,
        "v" or "verbose" => Verbosity.Verbose,
        "d" or "diag" or "diagnostic" => Verbosity.Diagnostic,
        _ => throw new ArgumentException($"Unknown verbosity '{text}'. Use quiet, minimal, normal, verbose or diagnostic."),
    };
}

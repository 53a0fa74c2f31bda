namespace Lotse.ApiServer.Admission;

/// <summary>The admission plugins one may turn off, by kube-apiserver's names.</summary>
public static class AdmissionPlugins
{
    public const string Priority = "Priority";

    public static readonly IReadOnlyList<string> Names = [ServiceAccountAdmission.PluginName, Priority];

    /// <summary>Reads <c>--disable-admission-plugins</c> values (each may be a comma-separated list).</summary>
    public static IReadOnlySet<string> Parse(IEnumerable<string> values)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!Names.Contains(name))
            {
                throw new StartupException($"--disable-admission-plugins: unknown admission plugin \"{name}\" (known: {string.Join(", ", Names)})");
            }

            names.Add(name);
        }

        return names;
    }
}

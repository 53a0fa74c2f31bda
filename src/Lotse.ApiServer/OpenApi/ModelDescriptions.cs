using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.Json.Serialization;

namespace Lotse.ApiServer.OpenApi;

/// <summary>
/// The descriptions of the built-in kinds' types and fields — kube's API documentation, as
/// KubernetesClient ships it for its <c>k8s.Models</c> types — for the OpenAPI documents that
/// <c>kubectl explain</c> prints. The text is extracted at build time (<c>ModelDescriptions.targets</c>)
/// into a gzipped embedded resource and read the first time a document is built, so a server nobody
/// asks for OpenAPI never holds it in memory. Immutable once loaded; safe from any thread.
/// </summary>
internal static class ModelDescriptions
{
    public const string ResourceName = "Lotse.ApiServer.OpenApi.ModelDescriptions.gz";

    private static readonly Lazy<FrozenDictionary<string, string>> Table = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly ConcurrentDictionary<Type, FrozenDictionary<string, string>> ClrNames = new();

    /// <summary>How many types and fields have a description (loads the table).</summary>
    public static int Count => Table.Value.Count;

    /// <summary>The description of a model type (<c>V1PodSpec</c>), or null.</summary>
    public static string? Of(Type model) =>
        model.Namespace == "k8s.Models" ? Table.Value.GetValueOrDefault(model.Name) : null;

    /// <summary>The description of the field a model serializes as <paramref name="jsonName"/>, or null.</summary>
    public static string? Of(Type model, string jsonName)
    {
        if (model.Namespace != "k8s.Models")
        {
            return null;
        }

        var names = ClrNames.GetOrAdd(model, static t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Json: p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name, Clr: p.Name))
            .Where(p => p.Json is not null)
            .DistinctBy(p => p.Json, StringComparer.Ordinal)
            .ToFrozenDictionary(p => p.Json!, p => p.Clr, StringComparer.Ordinal));
        return names.TryGetValue(jsonName, out var clr) ? Table.Value.GetValueOrDefault($"{model.Name}.{clr}") : null;
    }

    private static FrozenDictionary<string, string> Load()
    {
        using var stream = typeof(ModelDescriptions).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded (see OpenApi/ModelDescriptions.targets)");
        return Parse(new GZipStream(stream, CompressionMode.Decompress));
    }

    /// <summary>Reads the resource format the build step writes (its header comment describes it).</summary>
    internal static FrozenDictionary<string, string> Parse(Stream gzipped)
    {
        using var reader = new StreamReader(gzipped, Encoding.UTF8);
        var count = int.Parse(reader.ReadLine() ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        var texts = new string[count];
        for (var i = 0; i < count; i++)
        {
            texts[i] = reader.ReadLine() ?? throw new InvalidDataException("the model descriptions end early");
        }

        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            entries[line[..tab]] = texts[int.Parse(line.AsSpan(tab + 1), System.Globalization.CultureInfo.InvariantCulture)];
        }

        return entries.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

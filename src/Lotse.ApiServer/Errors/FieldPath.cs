using System.Globalization;

namespace Lotse.ApiServer.Errors;

/// <summary>A path to a field as kubernetes prints it: <c>spec.containers[0].image</c>, <c>metadata.labels[app]</c>.</summary>
public sealed class FieldPath
{
    private readonly string _path;

    private FieldPath(string path) => _path = path;

    public static FieldPath Root(string name) => new(name);

    /// <summary>Takes a printed path as is (for messages built from known paths).</summary>
    public static FieldPath Parse(string path) => new(path);

    public FieldPath Child(string name) => new(_path.Length == 0 ? name : $"{_path}.{name}");

    public FieldPath Index(int index) => new($"{_path}[{index.ToString(CultureInfo.InvariantCulture)}]");

    public FieldPath Key(string key) => new($"{_path}[{key}]");

    public override string ToString() => _path;
}

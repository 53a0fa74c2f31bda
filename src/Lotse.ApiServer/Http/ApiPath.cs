namespace Lotse.ApiServer.Http;

/// <summary>
/// A resource URL taken apart: <c>/api/v1/…</c> or <c>/apis/{group}/{version}/…</c> followed by
/// <c>[namespaces/{ns}/]{resource}[/{name}[/{subresource}]]</c>, or <c>namespaces/{name}[/{sub}]</c>
/// for namespaces themselves. The legacy <c>watch/</c> prefix is folded into <see cref="Watch"/>.
/// </summary>
public sealed record ApiPath(string Group, string Version, string? Namespace, string Resource, string? Name, string? Subresource, bool Watch)
{
    /// <summary>Parses the part after the group-version. <paramref name="isNamespacedResource"/> tells
    /// whether <c>namespaces/{x}/{segment}</c> names a namespaced resource or a namespace subresource.</summary>
    public static ApiPath? Parse(string group, string version, ReadOnlySpan<string> segments, Func<string, bool> isNamespacedResource)
    {
        var watch = false;
        if (segments.Length > 0 && segments[0] == "watch")
        {
            watch = true;
            segments = segments[1..];
        }

        if (segments.Length == 0 || segments.Length > 5 || segments.IndexOf(string.Empty) >= 0)
        {
            return null;
        }

        if (segments[0] == "namespaces" && segments.Length >= 3 && isNamespacedResource(segments[2]))
        {
            return segments.Length switch
            {
                3 => new ApiPath(group, version, segments[1], segments[2], null, null, watch),
                4 => new ApiPath(group, version, segments[1], segments[2], segments[3], null, watch),
                _ => new ApiPath(group, version, segments[1], segments[2], segments[3], segments[4], watch),
            };
        }

        return segments.Length switch
        {
            1 => new ApiPath(group, version, null, segments[0], null, null, watch),
            2 => new ApiPath(group, version, null, segments[0], segments[1], null, watch),
            3 => new ApiPath(group, version, null, segments[0], segments[1], segments[2], watch),
            _ => null,
        };
    }
}

namespace Lotse.Scheduler.Framework;

/// <summary>Image references in the one form nodes and pods are compared in: <c>nginx</c> is <c>docker.io/library/nginx:latest</c>.</summary>
public static class ImageNames
{
    public static string Normalize(string image)
    {
        var name = image;
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? string.Empty : name[..slash];
        if (slash < 0)
        {
            name = "docker.io/library/" + name;
        }
        else if (!first.Contains('.', StringComparison.Ordinal) && !first.Contains(':', StringComparison.Ordinal) && first != "localhost")
        {
            name = "docker.io/" + name;
        }

        if (name.Contains('@', StringComparison.Ordinal))
        {
            return name;
        }

        var lastSlash = name.LastIndexOf('/');
        return name.IndexOf(':', lastSlash + 1) < 0 ? name + ":latest" : name;
    }
}

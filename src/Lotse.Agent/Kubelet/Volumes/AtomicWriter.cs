using System.Globalization;

namespace Lotse.Agent.Kubelet.Volumes;

/// <summary>
/// Writes a set of files into a volume directory the way the kubelet's atomic writer does, so a
/// reader never sees a half-updated volume: the files go into a fresh timestamped directory
/// (<c>..2026_12_03_18_00_00.123456789</c>), the <c>..data</c> symlink is pointed at it by
/// renaming a new link over it, and each top-level name is a symlink through <c>..data</c>.
/// </summary>
internal static class AtomicWriter
{
    public const string DataDir = "..data";
    private const string DataDirTmp = "..data_tmp";

    /// <summary>Brings <paramref name="dir"/> to <paramref name="payload"/> (paths relative, no <c>..</c>); false when it was already current.</summary>
    public static bool Write(string dir, IReadOnlyDictionary<string, FilePayload> payload, TimeProvider time)
    {
        foreach (var path in payload.Keys)
        {
            Validate(path);
        }

        Directory.CreateDirectory(dir);
        var data = Path.Combine(dir, DataDir);
        var old = new FileInfo(data).LinkTarget;
        if (old is not null && Same(Path.Combine(dir, old), payload))
        {
            return false;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var stamp = ".." + now.ToString("yyyy_MM_dd_HH_mm_ss", CultureInfo.InvariantCulture) + "." + Random.Shared.Next(100_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture);
        var target = Path.Combine(dir, stamp);
        Directory.CreateDirectory(target);
        File.SetUnixFileMode(target, (UnixFileMode)Convert.ToInt32("755", 8));
        foreach (var (path, file) in payload)
        {
            var full = Path.Combine(target, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, file.Data);
            File.SetUnixFileMode(full, (UnixFileMode)(file.Mode & 0x1FF));
        }

        var tmp = Path.Combine(dir, DataDirTmp);
        if (File.Exists(tmp) || new FileInfo(tmp).LinkTarget is not null)
        {
            File.Delete(tmp);
        }

        File.CreateSymbolicLink(tmp, stamp);
        Native.Rename(tmp, data);

        var names = payload.Keys.Select(p => p.Split('/')[0]).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var link = Path.Combine(dir, name);
            if (new FileInfo(link).LinkTarget is null)
            {
                File.CreateSymbolicLink(link, Path.Combine(DataDir, name));
            }
        }

        foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
        {
            if (entry.Name.StartsWith("..", StringComparison.Ordinal))
            {
                if (entry.Name != DataDir && entry.Name != stamp && entry is DirectoryInfo { LinkTarget: null } stale)
                {
                    stale.Delete(recursive: true);
                }
            }
            else if (!names.Contains(entry.Name) && entry.LinkTarget is not null)
            {
                entry.Delete();
            }
        }

        return true;
    }

    /// <summary>The kubelet's rule for payload paths: relative, no <c>..</c> element, not starting with <c>..</c>.</summary>
    public static void Validate(string path)
    {
        if (path.Length == 0 || path.StartsWith('/') || path.StartsWith("..", StringComparison.Ordinal) || path.Split('/').Any(p => p is ".." or ""))
        {
            throw new VolumeSetupException($"invalid path: {path}");
        }
    }

    private static bool Same(string current, IReadOnlyDictionary<string, FilePayload> payload)
    {
        if (!Directory.Exists(current))
        {
            return false;
        }

        var files = Directory.EnumerateFiles(current, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(current, f)).ToHashSet(StringComparer.Ordinal);
        if (!files.SetEquals(payload.Keys))
        {
            return false;
        }

        foreach (var (path, file) in payload)
        {
            var full = Path.Combine(current, path);
            if ((int)File.GetUnixFileMode(full) != (file.Mode & 0x1FF) || !File.ReadAllBytes(full).AsSpan().SequenceEqual(file.Data))
            {
                return false;
            }
        }

        return true;
    }
}

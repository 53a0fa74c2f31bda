namespace Lotse.Agent.Kubelet.Volumes;

/// <summary>The kubelet's hostPath <c>type</c> checks, with its error wording.</summary>
internal static class HostPathTypes
{
    /// <summary>Checks (and for the <c>…OrCreate</c> types creates) <paramref name="path"/>; throws <see cref="VolumeSetupException"/> when it does not fit.</summary>
    public static void Check(string path, string? type)
    {
        var found = Native.FileType(path);
        switch (type ?? string.Empty)
        {
            case "":
                return;
            case "DirectoryOrCreate" when found is null:
                Directory.CreateDirectory(path);
                File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("755", 8));
                return;
            case "DirectoryOrCreate" or "Directory":
                Expect(found, Native.Directory, $"hostPath type check failed: {path} is not a directory");
                return;
            case "FileOrCreate" when found is null:
                try
                {
                    using (File.Open(path, FileMode.CreateNew, FileAccess.Write))
                    {
                    }

                    File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("644", 8));
                }
                catch (IOException e)
                {
                    throw new VolumeSetupException($"open {path}: {e.Message}", e);
                }
                catch (UnauthorizedAccessException e)
                {
                    throw new VolumeSetupException($"open {path}: {e.Message}", e);
                }

                return;
            case "FileOrCreate" or "File":
                Expect(found, Native.Regular, $"hostPath type check failed: {path} is not a file");
                return;
            case "Socket":
                Expect(found, Native.Socket, $"hostPath type check failed: {path} is not a socket file");
                return;
            case "CharDevice":
                Expect(found, Native.Character, $"hostPath type check failed: {path} is not a character device");
                return;
            case "BlockDevice":
                Expect(found, Native.Block, $"hostPath type check failed: {path} is not a block device");
                return;
            default:
                throw new VolumeSetupException($"{type} is an invalid volume type");
        }
    }

    private static void Expect(uint? found, uint wanted, string message)
    {
        if (found != wanted)
        {
            throw new VolumeSetupException(message);
        }
    }
}

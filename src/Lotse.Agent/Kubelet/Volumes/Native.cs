using System.Runtime.InteropServices;

namespace Lotse.Agent.Kubelet.Volumes;

/// <summary>The few system calls volumes need: tmpfs mounts and a file's type (statx, whose layout is the same on every architecture).</summary>
internal static partial class Native
{
    public const uint FileTypeMask = 0xF000;
    public const uint Socket = 0xC000;
    public const uint Regular = 0x8000;
    public const uint Block = 0x6000;
    public const uint Directory = 0x4000;
    public const uint Character = 0x2000;

    private const int AtFdCwd = -100;
    private const uint StatxType = 1;
    private const int MntDetach = 2;

    /// <summary>The file type bits of <paramref name="path"/> (symlinks followed), or null when it does not exist.</summary>
    public static unsafe uint? FileType(string path)
    {
        var buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0)
        {
            return null;
        }

        var mode = *(ushort*)(buffer + 28);
        return mode & FileTypeMask;
    }

    public static void MountTmpfs(string target, string options)
    {
        if (Mount("tmpfs", target, "tmpfs", 0, "mode=0777" + options) != 0)
        {
            throw new VolumeSetupException($"mount failed: tmpfs on {target}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>rename(2): atomically replaces <paramref name="to"/>, symlinks included (File.Move follows a link to a directory).</summary>
    public static void Rename(string from, string to)
    {
        if (RenameCall(from, to) != 0)
        {
            throw new IOException($"rename {from} {to}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public static bool Unmount(string target) => Umount2(target, MntDetach) == 0;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Mount(string source, string target, string fstype, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RenameCall(string from, string to);

    [LibraryImport("libc", EntryPoint = "umount2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Umount2(string target, int flags);
}

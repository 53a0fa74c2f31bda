using System.Globalization;
using System.Runtime.InteropServices;

namespace Lotse.Agent.Node;

/// <summary>What the eviction signals measure now: available and capacity of each.</summary>
public sealed record NodeSignals(IReadOnlyDictionary<string, (long Available, long Capacity)> Values);

/// <summary>
/// The node's pressure conditions, from real measurements as the kubelet's eviction manager takes
/// them: memory.available = capacity − working set of the root memory cgroup (usage less inactive
/// file pages; /proc/meminfo's MemAvailable without cgroup v1 memory), nodefs of the agent's
/// directory and imagefs of containerd's root (statvfs: bytes and inodes), pid.available =
/// kernel.pid_max − processes. A crossed threshold keeps its condition True for the transition
/// period after it recovers (the kubelet's 5 minutes), so a node does not flap.
/// </summary>
public sealed partial class NodePressure(EvictionThresholds thresholds, string nodeFs, string imageFs, TimeProvider time, TimeSpan? transition = null)
{
    private readonly TimeSpan _transition = transition ?? TimeSpan.FromMinutes(5);
    private readonly Dictionary<string, DateTimeOffset> _lastCrossed = new(StringComparer.Ordinal);

    /// <summary>The signals last evaluated.</summary>
    public NodeSignals? Last { get; private set; }

    /// <summary>Which conditions are under pressure now (MemoryPressure, DiskPressure, PIDPressure).</summary>
    public (bool Memory, bool Disk, bool Pid) Evaluate(NodeSignals? signals = null)
    {
        signals ??= Measure();
        Last = signals;
        var now = time.GetUtcNow();
        foreach (var (signal, threshold) in thresholds.Signals)
        {
            if (signals.Values.TryGetValue(signal, out var value) && threshold.Crossed(value.Available, value.Capacity))
            {
                _lastCrossed[signal] = now;
            }
        }

        bool Under(params string[] signalNames) => signalNames.Any(s => _lastCrossed.TryGetValue(s, out var at) && now - at < _transition);
        return (Under("memory.available"), Under("nodefs.available", "nodefs.inodesFree", "imagefs.available", "imagefs.inodesFree"), Under("pid.available"));
    }

    public NodeSignals Measure()
    {
        var values = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        if (Memory() is { } memory)
        {
            values["memory.available"] = memory;
        }

        foreach (var (prefix, path) in (ReadOnlySpan<(string, string)>)[("nodefs", nodeFs), ("imagefs", imageFs)])
        {
            if (FileSystem(path) is { } fs)
            {
                values[$"{prefix}.available"] = (fs.Available, fs.Capacity);
                values[$"{prefix}.inodesFree"] = (fs.InodesFree, fs.Inodes);
            }
        }

        if (Pids() is { } pids)
        {
            values["pid.available"] = pids;
        }

        return new NodeSignals(values);
    }

    private static (long Available, long Capacity)? Memory()
    {
        var total = MemInfo("MemTotal");
        if (total is null)
        {
            return null;
        }

        const string Cgroup = "/sys/fs/cgroup/memory";
        if (ReadLong(Path.Combine(Cgroup, "memory.usage_in_bytes")) is { } usage && File.Exists(Path.Combine(Cgroup, "memory.stat")))
        {
            var inactive = File.ReadLines(Path.Combine(Cgroup, "memory.stat")).Select(l => l.Split(' ')).Where(p => p.Length == 2 && p[0] == "total_inactive_file").Select(p => long.Parse(p[1], CultureInfo.InvariantCulture)).FirstOrDefault();
            var workingSet = Math.Max(0, usage - inactive);
            return (Math.Max(0, total.Value - workingSet), total.Value);
        }

        return MemInfo("MemAvailable") is { } available ? (available, total.Value) : null;
    }

    private static long? MemInfo(string field)
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return null;
    }

    private static (long Available, long Capacity)? Pids()
    {
        if (ReadLong("/proc/sys/kernel/pid_max") is not { } max)
        {
            return null;
        }

        var running = Directory.EnumerateDirectories("/proc").Count(d => Path.GetFileName(d).All(char.IsAsciiDigit));
        return (max - running, max);
    }

    private static long? ReadLong(string path) =>
        File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, out var value) ? value : null;

    private static (long Available, long Capacity, long InodesFree, long Inodes)? FileSystem(string path)
    {
        while (!Directory.Exists(path) && Path.GetDirectoryName(path) is { } parent)
        {
            path = parent;
        }

        if (StatVfs(path, out var stat) != 0)
        {
            return null;
        }

        var block = (long)stat.FragmentSize;
        return ((long)stat.BlocksAvailable * block, (long)stat.Blocks * block, (long)stat.FilesFree, (long)stat.Files);
    }

    /// <summary>struct statvfs of glibc on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct StatVfsResult
    {
        public ulong BlockSize;
        public ulong FragmentSize;
        public ulong Blocks;
        public ulong BlocksFree;
        public ulong BlocksAvailable;
        public ulong Files;
        public ulong FilesFree;
        public ulong FilesAvailable;
        public ulong FileSystemId;
        public ulong Flags;
        public ulong NameMax;
        public long Spare0;
        public long Spare1;
        public long Spare2;
    }

    [LibraryImport("libc", EntryPoint = "statvfs", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int StatVfs(string path, out StatVfsResult result);
}

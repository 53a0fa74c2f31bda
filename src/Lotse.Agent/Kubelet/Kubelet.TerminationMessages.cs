using System.Globalization;
using System.Text;
using k8s.Models;
using Lotse.Agent.Cri.V1;

namespace Lotse.Agent.Kubelet;

/// <summary>
/// Termination messages (kube's terminationMessagePath/Policy): each container instance gets an
/// empty file of its own, mounted at its <c>terminationMessagePath</c>; when the container has
/// ended its content (at most 4096 bytes) is the terminated state's message, and with
/// FallbackToLogsOnError a failed container that wrote none gets the end of its log (80 lines,
/// 2048 bytes).
/// </summary>
public sealed partial class Kubelet
{
    private const int MaxTerminationMessage = 4096;
    private const int FallbackLogBytes = 2048;
    private const int FallbackLogLines = 80;

    private string TerminationMessageFile(string uid, string container, uint attempt) =>
        Path.Combine(_volumes.PodDir(uid), "containers", container, attempt.ToString(CultureInfo.InvariantCulture));

    /// <summary>The mount of a new container instance's message file; none when a volume is mounted there already.</summary>
    private Mount? TerminationMessageMount(V1Pod pod, V1Container container, uint attempt, List<Mount> mounts)
    {
        var path = string.IsNullOrEmpty(container.TerminationMessagePath) ? "/dev/termination-log" : container.TerminationMessagePath;
        if (mounts.Any(m => m.ContainerPath == path))
        {
            return null;
        }

        var file = TerminationMessageFile(pod.Metadata.Uid, container.Name, attempt);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, []);
        return new Mount { ContainerPath = path, HostPath = file };
    }

    /// <summary>Fills in the message of every ended container instance that has none from the runtime.</summary>
    private async Task AddTerminationMessagesAsync(V1Pod pod, PodRuntime runtime, CancellationToken cancellationToken)
    {
        foreach (var status in runtime.Containers.Where(c => c.State == ContainerState.ContainerExited && string.IsNullOrEmpty(c.Message)))
        {
            if (pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).FirstOrDefault(c => c.Name == status.Metadata.Name) is not { } container)
            {
                continue;
            }

            var message = await ReadPrefixAsync(TerminationMessageFile(pod.Metadata.Uid, container.Name, status.Metadata.Attempt), MaxTerminationMessage, cancellationToken);
            if (message.Length == 0 && status.ExitCode != 0 && container.TerminationMessagePolicy == "FallbackToLogsOnError")
            {
                message = await LogTailAsync(pod, status, cancellationToken);
            }

            if (message.Length > 0)
            {
                status.Message = message;
            }
        }
    }

    private static async Task<string> ReadPrefixAsync(string file, int limit, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = File.OpenRead(file);
            var buffer = new byte[limit];
            var read = await stream.ReadAtLeastAsync(buffer, limit, throwOnEndOfStream: false, cancellationToken);
            return Encoding.UTF8.GetString(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty; // no file (an instance from before the agent wrote them) or unreadable
        }
    }

    private async Task<string> LogTailAsync(V1Pod pod, ContainerStatus status, CancellationToken cancellationToken)
    {
        var path = Path.IsPathRooted(status.LogPath) ? status.LogPath : Path.Combine(RuntimeConfigs.LogDirectory(_options.PodLogDir, pod), status.LogPath);
        if (!File.Exists(path))
        {
            return string.Empty;
        }

        using var tail = new MemoryStream();
        await ContainerLogs.WriteAsync(path, new LogOptions { TailLines = FallbackLogLines }, tail, () => Task.FromResult(false), cancellationToken);
        var bytes = tail.ToArray();
        return Encoding.UTF8.GetString(bytes, Math.Max(0, bytes.Length - FallbackLogBytes), Math.Min(bytes.Length, FallbackLogBytes));
    }
}

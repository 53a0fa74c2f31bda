using System.Globalization;
using Lotse.Streaming.Channels;
using Microsoft.AspNetCore.Http;

namespace Lotse.Agent.Kubelet;

/// <summary>What a session streams: a command run in a container, the container's own process, or ports of the pod.</summary>
internal enum StreamingKind
{
    Exec,
    Attach,
    PortForward,
}

/// <summary>An exec, attach or port-forward request to the node agent, as the kubelet's paths and query give it.</summary>
internal sealed record StreamingRequest(StreamingKind Kind, string Namespace, string Pod, string? Container, IReadOnlyList<string> Command, RemoteCommandOptions Options, IReadOnlyList<int> Ports)
{
    public static StreamingRequest From(StreamingKind kind, string ns, string pod, string? container, IQueryCollection query)
    {
        bool Flag(string name) => query[name].ToString() is "true" or "1" or "True";
        var ports = query["port"].Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : 0).Where(p => p is > 0 and < 65536).ToList();
        return new StreamingRequest(kind, ns, pod, container, [.. query["command"].OfType<string>()], new RemoteCommandOptions(Flag("stdin"), Flag("stdout"), Flag("stderr"), Flag("tty")), ports);
    }
}

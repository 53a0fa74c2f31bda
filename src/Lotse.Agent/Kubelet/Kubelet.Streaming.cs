using Grpc.Core;
using Lotse.Agent.Cri.V1;
using Lotse.Client.Informers;

namespace Lotse.Agent.Kubelet;

/// <summary>Where the runtime streams exec, attach and port-forward sessions of this node's pods (CRI Exec, Attach, PortForward).</summary>
public sealed partial class Kubelet
{
    /// <summary>The runtime's streaming URL for an exec, attach or port-forward, or the status and text of why not (as the kubelet answers).</summary>
    internal async Task<(Uri? Url, int Status, string? Error)> StreamingUrlAsync(StreamingRequest request, CancellationToken cancellationToken)
    {
        if (Lookup(ObjectKey.Of(request.Namespace, request.Pod)) is not { } pod)
        {
            return (null, 404, $"pod \"{request.Pod}\" in namespace \"{request.Namespace}\" is not on node {_options.NodeName}");
        }

        var runtime = await LoadAsync(pod.Metadata.Uid, cancellationToken);
        try
        {
            string url;
            if (request.Kind == StreamingKind.PortForward)
            {
                if (runtime.Sandbox is not { State: PodSandboxState.SandboxReady } sandbox)
                {
                    return (null, 400, $"pod \"{request.Pod}\" has no running sandbox to forward ports into");
                }

                var forward = new PortForwardRequest { PodSandboxId = sandbox.Id };
                forward.Port.AddRange(request.Ports);
                url = (await _cri.Runtime.PortForwardAsync(forward, cancellationToken: cancellationToken)).Url;
            }
            else
            {
                var (latest, _) = runtime.Instances(request.Container!);
                if (latest is not { State: ContainerState.ContainerRunning })
                {
                    return (null, 404, $"container not found (\"{request.Container}\")");
                }

                if (request.Kind == StreamingKind.Exec)
                {
                    var exec = new ExecRequest { ContainerId = latest.Id, Tty = request.Options.Tty, Stdin = request.Options.Stdin, Stdout = request.Options.Stdout, Stderr = request.Options.SeparateStderr };
                    exec.Cmd.AddRange(request.Command);
                    url = (await _cri.Runtime.ExecAsync(exec, cancellationToken: cancellationToken)).Url;
                }
                else
                {
                    var attach = new AttachRequest { ContainerId = latest.Id, Tty = request.Options.Tty, Stdin = request.Options.Stdin, Stdout = request.Options.Stdout, Stderr = request.Options.SeparateStderr };
                    url = (await _cri.Runtime.AttachAsync(attach, cancellationToken: cancellationToken)).Url;
                }
            }

            return Uri.TryCreate(url, UriKind.Absolute, out var uri) ? (uri, 200, null) : (null, 500, $"the runtime answered a streaming URL that is not one: {url}");
        }
        catch (RpcException e)
        {
            return (null, e.StatusCode == StatusCode.NotFound ? 404 : 500, e.Status.Detail);
        }
    }
}

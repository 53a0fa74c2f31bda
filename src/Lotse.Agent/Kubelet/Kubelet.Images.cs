using System.Diagnostics;
using Grpc.Core;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Lotse.Agent.Cri.V1;
using Lotse.Agent.Registries;
using Lotse.Client.Events;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet;

public sealed partial class Kubelet
{
    /// <summary>
    /// Makes the container's image present by its pull policy and returns the image's ID, which the
    /// container is created from (as the kubelet does); null, with a waiting reason and events, when
    /// it cannot be. Pulls carry the pod's image pull secrets (<see cref="DockerKeyring"/>): every
    /// matching credential is tried in turn and the first pull that works wins; with no matching
    /// credential the pull is anonymous, and the runtime may add its own (registries.yaml). Like the
    /// kubelet, matching credentials that all fail are not followed by an anonymous pull.
    /// </summary>
    /// <remarks>
    /// A rewrite in registries.yaml (containerd 1.6 has none) is applied here: the rewritten name is
    /// pulled first — through the mirror endpoints, then the registry's default endpoint — and when
    /// that fails the image's own name, so the default endpoint is also asked for the name as
    /// written (K3s asks it only that). The image is then stored under the rewritten name, unlike
    /// K3s; the pod's status keeps the name in its spec.
    /// </remarks>
    private async Task<string?> EnsureImageAsync(V1Pod pod, V1Container container, PodState state, string fieldPath, CancellationToken cancellationToken)
    {
        var image = container.Image;
        string[] references = _options.Registries.Rewrite(image) is { } rewritten ? [rewritten, image] : [image];
        var policy = container.ImagePullPolicy ?? (ImageTag(image) is null or "latest" ? "Always" : "IfNotPresent");
        string? present = null;
        foreach (var reference in references)
        {
            if ((await _cri.Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = reference } }, cancellationToken: cancellationToken)).Image is { } status)
            {
                present = status.Id;
                break;
            }
        }

        if (policy == "Never" && present is null)
        {
            var message = $"Container image \"{image}\" is not present with pull policy of Never";
            state.Waiting[container.Name] = ("ErrImageNeverPull", message);
            _events.Record(pod, EventRecorder.Warning, "ErrImageNeverPull", message, fieldPath: fieldPath);
            return null;
        }

        if (present is not null && policy != "Always")
        {
            _events.Record(pod, EventRecorder.Normal, "Pulled", $"Container image \"{image}\" already present on machine", fieldPath: fieldPath);
            return present;
        }

        _events.Record(pod, EventRecorder.Normal, "Pulling", $"Pulling image \"{image}\"", fieldPath: fieldPath);
        var watch = Stopwatch.StartNew();
        DockerKeyring keyring;
        try
        {
            keyring = DockerKeyring.FromSecrets(await PullSecretsAsync(pod, cancellationToken));
        }
        catch (FormatException e)
        {
            PullFailed(pod, container, state, fieldPath, e.Message);
            return null;
        }

        var credentials = keyring.Lookup(image);
        var errors = new List<string>();
        foreach (var reference in references)
        {
            foreach (var credential in credentials.Count == 0 ? [null] : (IReadOnlyList<DockerKeyring.Credential?>)credentials)
            {
                if (reference != image)
                {
                    LogRewritten(_logger, pod.Metadata.NamespaceProperty, pod.Metadata.Name, image, reference);
                }

                try
                {
                    var request = new PullImageRequest { Image = new ImageSpec { Image = reference } };
                    if (credential is not null)
                    {
                        // No server address, as the kubelet: containerd then offers them to whichever
                        // endpoint (mirror or upstream) asks for credentials.
                        request.Auth = new AuthConfig { Username = credential.Username, Password = credential.Password };
                    }

                    var pulled = await _cri.Images.PullImageAsync(request, cancellationToken: cancellationToken);
                    var took = watch.Elapsed.TotalSeconds;
                    _events.Record(pod, EventRecorder.Normal, "Pulled", $"Successfully pulled image \"{image}\" in {took:0.###}s ({took:0.###}s including waiting)", fieldPath: fieldPath);
                    return pulled.ImageRef;
                }
                catch (RpcException e)
                {
                    if (!errors.Contains(e.Status.Detail))
                    {
                        errors.Add(e.Status.Detail);
                    }
                }
            }
        }

        // One error as it is, several as the kubelet aggregates them.
        PullFailed(pod, container, state, fieldPath, errors.Count == 1 ? errors[0] : $"[{string.Join(", ", errors)}]");
        return null;
    }

    private void PullFailed(V1Pod pod, V1Container container, PodState state, string fieldPath, string error)
    {
        var message = $"Failed to pull image \"{container.Image}\": {error}";
        state.Waiting[container.Name] = ("ErrImagePull", message);
        _events.Record(pod, EventRecorder.Warning, "Failed", message, fieldPath: fieldPath);
        _events.Record(pod, EventRecorder.Warning, "Failed", "Error: ErrImagePull", fieldPath: fieldPath);
    }

    /// <summary>
    /// The pod's image pull secrets that can be read; the others are named in a
    /// FailedToRetrieveImagePullSecret warning and the pull goes on without them (the kubelet's
    /// <c>getPullSecretsForPod</c>, its words). Entries without a name are skipped, as there.
    /// </summary>
    private async Task<List<V1Secret>> PullSecretsAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var secrets = new List<V1Secret>();
        var failed = new List<string>();
        foreach (var reference in pod.Spec.ImagePullSecrets ?? [])
        {
            if (string.IsNullOrEmpty(reference.Name))
            {
                continue;
            }

            try
            {
                secrets.Add(await _client.CoreV1.ReadNamespacedSecretAsync(reference.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException)
            {
                LogPullSecretUnavailable(_logger, pod.Metadata.NamespaceProperty, pod.Metadata.Name, reference.Name, e.Message);
                failed.Add(reference.Name);
            }
        }

        if (failed.Count > 0)
        {
            _events.Record(pod, EventRecorder.Warning, "FailedToRetrieveImagePullSecret", $"Unable to retrieve some image pull secrets ({string.Join(", ", failed)}); attempting to pull the image may not succeed.");
        }

        return secrets;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Namespace}/{Name}: unable to retrieve pull secret {Secret}, the image pull may not succeed: {Error}")]
    private static partial void LogPullSecretUnavailable(ILogger logger, string @namespace, string name, string secret, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "pod {Namespace}/{Name}: pulling {Image} as {Reference} (registries.yaml rewrite)")]
    private static partial void LogRewritten(ILogger logger, string @namespace, string name, string image, string reference);
}

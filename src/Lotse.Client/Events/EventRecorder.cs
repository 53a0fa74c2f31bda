using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Lotse.Client.Events;

/// <summary>
/// Records core/v1 Events about objects in the background, as client-go's recorder does: best
/// effort — a failed or excess event is dropped (at most 256 in flight), never awaited by the
/// caller, never an error for it — and a repeat of the same event within 10 minutes raises the
/// first one's count and last timestamp instead of adding another (client-go's correlator).
/// </summary>
public sealed partial class EventRecorder
{
    public const string Normal = "Normal";
    public const string Warning = "Warning";
    private const int MaxInFlight = 256;
    private const int MaxRemembered = 4096;
    private static readonly TimeSpan RepeatWindow = TimeSpan.FromMinutes(10);
    private readonly Dictionary<string, (string Name, int Count, DateTimeOffset First)> _recent = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly IKubernetes _client;
    private readonly string _component;
    private readonly string _host;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private int _inFlight;

    /// <param name="component">The reporting component (<c>default-scheduler</c>, <c>kubelet</c>, …).</param>
    /// <param name="host">The host the component runs on (the event source's host; a node's name for the kubelet).</param>
    public EventRecorder(IKubernetes client, string component, string host, ILogger logger, TimeProvider? time = null)
    {
        _client = client;
        _component = component;
        _host = host;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public void Record<T>(T involved, string type, string reason, string message, string? action = null, string? fieldPath = null)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        if (Interlocked.Increment(ref _inFlight) > MaxInFlight)
        {
            Interlocked.Decrement(ref _inFlight);
            return;
        }

        var reference = new V1ObjectReference
        {
            ApiVersion = involved.ApiVersion ?? ApiVersionOf(typeof(T)),
            Kind = involved.Kind ?? KindOf(typeof(T)),
            NamespaceProperty = involved.Metadata.NamespaceProperty,
            Name = involved.Metadata.Name,
            Uid = involved.Metadata.Uid,
            ResourceVersion = involved.Metadata.ResourceVersion,
            FieldPath = fieldPath,
        };
        _ = Task.Run(async () =>
        {
            try
            {
                await CreateAsync(reference, type, reason, message, action);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }, CancellationToken.None);
    }

    /// <summary>The apiVersion of a KubernetesClient model type (objects from lists carry none): V1ReplicaSet → apps/v1.</summary>
    internal static string ApiVersionOf(Type type) =>
        System.Reflection.CustomAttributeExtensions.GetCustomAttribute<KubernetesEntityAttribute>(type) is { } entity
            ? string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}"
            : "v1";

    /// <summary>The kind of a KubernetesClient model type: V1Pod → Pod, V2HorizontalPodAutoscaler → HorizontalPodAutoscaler.</summary>
    internal static string KindOf(Type type) =>
        System.Text.RegularExpressions.Regex.Replace(type.Name, "^V[0-9]+((alpha|beta)[0-9]+)?", string.Empty);

    private async Task CreateAsync(V1ObjectReference involved, string type, string reason, string message, string? action)
    {
        var now = _time.GetUtcNow();
        var ns = string.IsNullOrEmpty(involved.NamespaceProperty) ? "default" : involved.NamespaceProperty;
        var key = $"{involved.Uid}|{involved.FieldPath}|{type}|{reason}|{message}";
        (string Name, int Count, DateTimeOffset First) repeat;
        lock (_gate)
        {
            if (_recent.TryGetValue(key, out repeat) && now - repeat.First < RepeatWindow)
            {
                _recent[key] = repeat = (repeat.Name, repeat.Count + 1, repeat.First);
            }
            else
            {
                if (_recent.Count >= MaxRemembered)
                {
                    _recent.Clear();
                }

                _recent[key] = repeat = ($"{involved.Name}.{now.UtcTicks:x}", 1, now);
            }
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            if (repeat.Count > 1)
            {
                var patch = new System.Text.Json.Nodes.JsonObject { ["count"] = repeat.Count, ["lastTimestamp"] = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) };
                try
                {
                    await _client.CoreV1.PatchNamespacedEventAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), repeat.Name, ns, cancellationToken: timeout.Token);
                    return;
                }
                catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    // Expired or deleted meanwhile: record it afresh below.
                }
            }

            var ev = new Corev1Event
            {
                Metadata = new V1ObjectMeta { Name = repeat.Name, NamespaceProperty = ns },
                InvolvedObject = involved,
                Type = type,
                Reason = reason,
                Action = action,
                Message = message,
                Source = new V1EventSource { Component = _component, Host = _host },
                ReportingComponent = _component,
                ReportingInstance = _host,
                FirstTimestamp = repeat.First.UtcDateTime,
                LastTimestamp = now.UtcDateTime,
                Count = repeat.Count,
            };
            await _client.CoreV1.CreateNamespacedEventAsync(ev, ns, cancellationToken: timeout.Token);
        }
#pragma warning disable CA1031 // events are best effort (as in kube): losing one must fail nothing
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogFailed(_logger, reason, involved.Name, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "event {Reason} for {Name} not recorded: {Error}")]
    private static partial void LogFailed(ILogger logger, string reason, string name, string error);
}

using System.Text.Json.Nodes;
using k8s.Models;

namespace Lotse.Controllers.Autoscaling;

/// <summary>An HPA's conditions being updated: a transition time moves only when a condition's status does.</summary>
internal sealed class Conditions(IList<V2HorizontalPodAutoscalerCondition>? current, DateTimeOffset now)
{
    private readonly List<V2HorizontalPodAutoscalerCondition> _items = [.. current ?? []];

    public bool Unchanged { get; private set; } = true;

    public void Set(string type, string status, string reason, string message)
    {
        var old = _items.FirstOrDefault(c => c.Type == type);
        if (old is not null && old.Status == status && old.Reason == reason && old.Message == message)
        {
            return;
        }

        Unchanged = false;
        var next = new V2HorizontalPodAutoscalerCondition
        {
            Type = type,
            Status = status,
            Reason = reason,
            Message = message,
            LastTransitionTime = old?.Status == status ? old.LastTransitionTime : now.UtcDateTime,
        };
        var at = old is null ? -1 : _items.IndexOf(old);
        if (at < 0)
        {
            _items.Add(next);
        }
        else
        {
            _items[at] = next;
        }
    }

    public JsonArray ToJson() => new([.. _items.Select(c => (JsonNode)new JsonObject
    {
        ["type"] = c.Type,
        ["status"] = c.Status,
        ["lastTransitionTime"] = c.LastTransitionTime is { } at ? Runtime.KubeTime.Format(at) : null,
        ["reason"] = c.Reason,
        ["message"] = c.Message,
    })]);
}

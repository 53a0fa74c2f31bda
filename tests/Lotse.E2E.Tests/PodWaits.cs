using System.Text.Json;

namespace Lotse.E2E.Tests;

/// <summary>What the node-agent tests ask kubectl about pods: objects until a condition holds, events, container states.</summary>
internal static class PodWaits
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static async Task<JsonElement> GetJsonAsync(this Kubectl kubectl, string kind, string name)
    {
        var (exit, output, error) = await kubectl.RunAsync("get", kind, name, "-o", "json");
        Assert.True(exit == 0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    /// <summary>Polls the object until <paramref name="condition"/> holds; fails with it and the pod's description (and <paramref name="more"/>) otherwise.</summary>
    public static async Task<JsonElement> WaitForAsync(this Kubectl kubectl, string kind, string name, Func<JsonElement, bool> condition, Func<string>? more = null)
    {
        var deadline = DateTime.UtcNow + Timeout;
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await kubectl.GetJsonAsync(kind, name);
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(250);
        }

        var (_, describe, _) = await kubectl.RunAsync("describe", "pod", name);
        Assert.Fail($"{kind}/{name} did not reach the expected state: {last}\n{describe}{more?.Invoke()}");
        return last;
    }

    /// <summary>Events are recorded in the background: waits until one about <paramref name="pod"/> says <paramref name="text"/>.</summary>
    public static async Task EventAsync(this Kubectl kubectl, string pod, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var events = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            (_, events, _) = await kubectl.RunAsync("get", "events", "--field-selector", $"involvedObject.name={pod}");
            if (events.Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"no event about {pod} says \"{text}\":\n{events}");
    }

    /// <summary>The first container's waiting reason, if it waits.</summary>
    public static string? Waiting(JsonElement pod) =>
        pod.GetProperty("status").TryGetProperty("containerStatuses", out var statuses) && statuses[0].GetProperty("state").TryGetProperty("waiting", out var waiting)
            ? waiting.GetProperty("reason").GetString()
            : null;

    /// <summary>The first container's waiting message.</summary>
    public static string Message(JsonElement pod) =>
        pod.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("state").GetProperty("waiting").TryGetProperty("message", out var message) ? message.GetString() ?? string.Empty : string.Empty;
}

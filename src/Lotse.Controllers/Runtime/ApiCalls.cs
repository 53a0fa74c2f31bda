using System.Net;
using k8s.Autorest;

namespace Lotse.Controllers.Runtime;

/// <summary>Small rules controllers share about the API's answers.</summary>
public static class ApiCalls
{
    /// <summary>The message of the Status the API answered with (what kube's controllers put in their failure events).</summary>
    public static string StatusMessage(HttpOperationException e)
    {
        try
        {
            return k8s.KubernetesJson.Deserialize<k8s.Models.V1Status>(e.Response.Content)?.Message ?? e.Message;
        }
        catch (System.Text.Json.JsonException)
        {
            return e.Message;
        }
    }

    /// <summary>Reads an object that may be gone: null when the API says 404.</summary>
    public static async Task<T?> ReadOrNullAsync<T>(Task<T> read)
        where T : class
    {
        try
        {
            return await read;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Runs a write whose object may already be gone; gone is what the caller wanted or no longer cares about.</summary>
    public static async Task IgnoreNotFoundAsync(Task write)
    {
        try
        {
            await write;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Gone already.
        }
    }
}

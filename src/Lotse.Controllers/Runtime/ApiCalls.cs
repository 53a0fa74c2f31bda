using System.Net;
using k8s.Autorest;

namespace Lotse.Controllers.Runtime;

/// <summary>Small rules controllers share about the API's answers.</summary>
public static class ApiCalls
{
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

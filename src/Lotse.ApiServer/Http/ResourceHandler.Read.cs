using Lotse.ApiServer.Storage;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Http;

public sealed partial class ResourceHandler
{
    /// <summary>kube-apiserver gzips responses above 128 KiB when the client accepts it.</summary>
    private const long CompressAbove = 128 * 1024;

    private async Task ListAsync(HttpContext context, RequestScope scope, CancellationToken ct)
    {
        var request = context.Request;
        var query = request.Query;
        var format = Format(request, list: true);
        var matcher = new ObjectMatcher(scope.Resource, query["labelSelector"], query["fieldSelector"]);
        var options = new ListOptions
        {
            Limit = IntQuery(request, "limit") ?? 0,
            Continue = query["continue"],
            ResourceVersion = query["resourceVersion"],
            ResourceVersionMatch = query["resourceVersionMatch"],
        };
        var list = await objects.ListAsync(scope, options, matcher.Matches, ct);
        ApiRouter.SetCompression(context, list.Items.Sum(i => (long)i.Json.Length) > CompressAbove);
        await writer.WriteListAsync(context.Response, scope.Resource, list, format, query["includeObject"], ct);
    }
}

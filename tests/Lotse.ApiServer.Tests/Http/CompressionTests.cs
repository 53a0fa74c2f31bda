using System.Net;

namespace Lotse.ApiServer.Tests.Http;

public sealed class CompressionTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    [Fact]
    public async Task Gzip_OnlyForLargeListsAndOnlyWhenAsked()
    {
        using var client = server.Client(decompress: false);
        await client.PostAsync("/api/v1/namespaces", ApiServerFixture.Json("""{"metadata":{"name":"big"}}"""));
        var payload = new string('x', 4096);
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/v1/namespaces/big/configmaps", ApiServerFixture.Json($$$"""{"metadata":{"name":"c{{{i}}}"},"data":{"v":"{{{payload}}}"}}"""))).StatusCode);
        }

        async Task<HttpResponseMessage> GetAsync(string url, bool gzip)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (gzip)
            {
                request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
            }

            return await client.SendAsync(request);
        }

        var large = await GetAsync("/api/v1/namespaces/big/configmaps", gzip: true);
        Assert.Contains("gzip", large.Content.Headers.ContentEncoding);
        var small = await GetAsync("/api/v1/namespaces/big/configmaps/c1", gzip: true);
        Assert.DoesNotContain("gzip", small.Content.Headers.ContentEncoding);
        var notAsked = await GetAsync("/api/v1/namespaces/big/configmaps", gzip: false);
        Assert.DoesNotContain("gzip", notAsked.Content.Headers.ContentEncoding);
    }
}

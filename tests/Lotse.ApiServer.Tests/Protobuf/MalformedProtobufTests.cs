using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Lotse.ApiServer.Protobuf;

namespace Lotse.ApiServer.Tests.Protobuf;

/// <summary>
/// Protobuf request bodies (<c>k8s\0</c> + runtime.Unknown) that are broken in every way the wire
/// format allows: each is a 400 BadRequest Status naming what was wrong, the decoder throws nothing but
/// <see cref="FormatException"/>, and nothing is written.
/// </summary>
public sealed class MalformedProtobufTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string MediaType = "application/vnd.kubernetes.protobuf";

    // The wire format by hand (so bodies can be broken anywhere): tag = field << 3 | wire type.
    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7f);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return [.. bytes];
    }

    private static byte[] Tag(int field, int wire) => Varint(((ulong)field << 3) | (uint)wire);

    private static byte[] Len(int field, params byte[][] parts)
    {
        var content = parts.SelectMany(p => p).ToArray();
        return [.. Tag(field, 2), .. Varint((ulong)content.Length), .. content];
    }

    private static byte[] Str(int field, string value) => Len(field, Encoding.UTF8.GetBytes(value));

    private static byte[] Envelope(string apiVersion, string kind, byte[] raw) =>
        [.. "k8s\0"u8, .. Len(1, Str(1, apiVersion), Str(2, kind)), .. Len(2, raw)];

    /// <summary>A ConfigMap named <paramref name="name"/> whose metadata and body carry extra (possibly broken) bytes.</summary>
    private static byte[] ConfigMap(string name, byte[]? metadata = null, byte[]? rest = null) =>
        Envelope("v1", "ConfigMap", [.. Len(1, Str(1, name), metadata ?? []), .. rest ?? []]);

    private static byte[] Entry(string key, string value) => Len(2, Str(1, key), Str(2, value));

    public static TheoryData<string> Cases => [.. Bodies.Keys];

    private static readonly Dictionary<string, (byte[] Body, string Message)> Bodies = new()
    {
        ["empty"] = ([], "does not start with the Kubernetes protobuf magic"),
        ["magic cut short"] = ("k8s"u8.ToArray(), "does not start with the Kubernetes protobuf magic"),
        ["wrong magic"] = ([.. "k9s\0"u8, .. ConfigMap("pb-wrong-magic")[4..]], "does not start with the Kubernetes protobuf magic"),
        ["JSON sent as protobuf"] = ("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"pb-json"}}"""u8.ToArray(), "does not start with the Kubernetes protobuf magic"),
        ["magic and nothing else"] = ("k8s\0"u8.ToArray(), "names no apiVersion and kind"),
        ["envelope without typeMeta"] = ([.. "k8s\0"u8, .. Len(2, Len(1, Str(1, "pb-no-typemeta")))], "names no apiVersion and kind"),
        ["envelope cut in the object"] = (ConfigMap("pb-truncated", rest: Entry("k", "v"))[..^3], "runs past the end"),
        ["envelope cut after a tag"] = ([.. "k8s\0"u8, 0x0a], "truncated varint"),
        ["unknown kind"] = (Envelope("v1", "Gadget", Len(1, Str(1, "pb-gadget"))), "no protobuf decoding is known for Gadget in v1"),
        ["truncated varint in the metadata"] = (ConfigMap("pb-varint", metadata: [.. Tag(7, 0), 0x80, 0x80]), "truncated varint"),
        ["varint of eleven bytes"] = (ConfigMap("pb-long-varint", metadata: [.. Tag(7, 0), .. Enumerable.Repeat((byte)0xff, 10), 0x01]), "varint longer than 10 bytes"),
        ["length past the end of the metadata"] = (ConfigMap("pb-length", metadata: [.. Tag(2, 2), .. Varint(100), .. "abc"u8]), "runs past the end"),
        ["length of 2^64-1"] = ([.. "k8s\0"u8, .. Len(1, Str(1, "v1"), Str(2, "ConfigMap")), .. Tag(2, 2), .. Varint(ulong.MaxValue), 0x0a], "runs past the end"),
        ["length of 2^31-1"] = (ConfigMap("pb-huge", rest: [.. Tag(2, 2), .. Varint(int.MaxValue), .. Str(1, "k")]), "runs past the end"),
        ["map entry cut short"] = (ConfigMap("pb-map", rest: Len(2, [.. Tag(1, 2), .. Varint(40), .. "key"u8])), "runs past the end"),
        ["message field as a varint"] = (Envelope("v1", "ConfigMap", [.. Tag(1, 0), .. Varint(5), .. Len(2, Str(1, "k"))]), "came with wire type 0, not 2"),
        ["map field as a fixed64"] = (ConfigMap("pb-map-wire", rest: [.. Tag(2, 1), .. new byte[8]]), "came with wire type 1, not 2"),
        ["string field as a varint"] = (Envelope("v1", "ConfigMap", Len(1, [.. Tag(1, 0), .. Varint(7)])), "a string field came with wire type 0"),
        ["bool field as bytes"] = (ConfigMap("pb-bool", rest: Str(4, "yes")), "a bool field came with wire type 2"),
        ["typeMeta as a varint"] = ([.. "k8s\0"u8, .. Tag(1, 0), .. Varint(1)], "field typeMeta came with wire type 0"),
        ["group wire type"] = (ConfigMap("pb-group", rest: [.. Tag(40, 3), .. Tag(40, 4)]), "unsupported wire type 3"),
        ["wire type 7"] = (ConfigMap("pb-wire7", metadata: Tag(30, 7)), "unsupported wire type 7"),
        ["field number 0"] = (ConfigMap("pb-field0", rest: [.. Tag(0, 0), 0x01]), "invalid field number 0"),
        ["name not UTF-8"] = (Envelope("v1", "ConfigMap", Len(1, Len(1, [0xc3, 0x28]))), "not valid UTF-8"),
        ["creationTimestamp out of range"] = (ConfigMap("pb-time", metadata: Len(8, [.. Tag(1, 0), .. Varint(1UL << 62)])), "out of range"),
        ["fieldsV1 not JSON"] = (ConfigMap("pb-fields", metadata: Len(17, Str(1, "kubectl"), Len(7, Str(1, "{\"f:data\":")))), "does not hold valid JSON"),
        ["fieldsV1 nested 100000 deep"] = (ConfigMap("pb-deep-json", metadata: Len(17, Str(1, "kubectl"), Len(7, Str(1, new string('[', 100_000))))), "does not hold valid JSON"),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_MalformedBody_ThrowsOnlyFormatException(string name)
    {
        var (body, message) = Bodies[name];
        var error = Assert.Throws<FormatException>(() => KubeProtobuf.Decode(body));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Create_MalformedBody_IsBadRequest_AndWritesNothing(string name)
    {
        var (body, message) = Bodies[name];
        using var client = server.Client();
        var before = await ConfigMapNamesAsync(client);
        using var response = await PostAsync(client, "/api/v1/namespaces/default/configmaps", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        Assert.Equal(("Status", "Failure", "BadRequest", 400), (status["kind"]!.GetValue<string>(), status["status"]!.GetValue<string>(), status["reason"]!.GetValue<string>(), status["code"]!.GetValue<int>()));
        Assert.StartsWith("the protobuf body could not be decoded: ", status["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(message, status["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await ConfigMapNamesAsync(client));
    }

    [Fact]
    public async Task Create_WellFormedBody_IsCreated_WithWhatItSays()
    {
        // The control for the cases above: the same hand-made encoding, unbroken, creates the object.
        using var client = server.Client();
        var body = ConfigMap("pb-good", metadata: [.. Len(11, Str(1, "app"), Str(2, "web")), .. Tag(7, 0), .. Varint(3)], rest: [.. Entry("mode", "fast"), .. Tag(4, 0), 0x01]);
        using var response = await PostAsync(client, "/api/v1/namespaces/default/configmaps", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await ApiServerFixture.ReadAsync(response);
        Assert.Equal("pb-good", created["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("web", created["metadata"]!["labels"]!["app"]!.GetValue<string>());
        Assert.Equal("fast", created["data"]!["mode"]!.GetValue<string>());
        Assert.True(created["immutable"]!.GetValue<bool>());
    }

    [Fact]
    public void Decode_UnknownFieldsNested100000Deep_AreSkippedWithoutRecursing()
    {
        // A depth bomb in fields the table does not know: skipped as opaque bytes, as kube's decoder skips them.
        var bomb = Array.Empty<byte>();
        for (var i = 0; i < 100_000; i++)
        {
            bomb = Len(99, bomb);
        }

        var decoded = KubeProtobuf.Decode(ConfigMap("pb-bomb", metadata: bomb, rest: Entry("k", "v")));
        Assert.Equal("pb-bomb", decoded["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("v", decoded["data"]!["k"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("v1", "Secret", "", "the kind in the data (Secret) does not match the expected kind (ConfigMap)")]
    [InlineData("v1", "Secret", "?fieldValidation=Strict", "the kind in the data (Secret) does not match the expected kind (ConfigMap)")]
    [InlineData("apps/v1", "Deployment", "", "the API version in the data (apps/v1) does not match the expected API version (v1)")]
    public async Task Create_AnotherKindThanTheUrls_IsBadRequest_AndWritesNothing(string apiVersion, string kind, string query, string message)
    {
        using var client = server.Client();
        var name = $"pb-other-{kind.ToLowerInvariant()}-{query.Length}";
        var body = Envelope(apiVersion, kind, [.. Len(1, Str(1, name)), .. kind == "Secret" ? Str(3, "Opaque") : []]);
        Assert.Equal(kind, KubeProtobuf.Decode(body)["kind"]!.GetValue<string>());

        using var response = await PostAsync(client, $"/api/v1/namespaces/default/configmaps{query}", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = await ApiServerFixture.ReadAsync(response);
        Assert.Equal("BadRequest", status["reason"]!.GetValue<string>());
        Assert.Equal(message, status["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/namespaces/default/configmaps/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/namespaces/default/secrets/{name}")).StatusCode);
    }

    [Fact]
    public async Task Update_AnotherKindThanTheUrls_IsBadRequest_AndLeavesTheObject()
    {
        using var client = server.Client();
        using (var created = await PostAsync(client, "/api/v1/namespaces/default/configmaps", ConfigMap("pb-update", rest: Entry("k", "before"))))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var content = new ByteArrayContent(Envelope("v1", "Secret", Len(1, Str(1, "pb-update"))));
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaType);
        using var response = await client.PutAsync("/api/v1/namespaces/default/configmaps/pb-update", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("the kind in the data (Secret) does not match the expected kind (ConfigMap)", (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var stored = await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1/namespaces/default/configmaps/pb-update"));
        Assert.Equal("before", stored["data"]!["k"]!.GetValue<string>());
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaType);
        return await client.PostAsync(path, content);
    }

    private static async Task<string> ConfigMapNamesAsync(HttpClient client)
    {
        var list = await ApiServerFixture.ReadAsync(await client.GetAsync("/api/v1/namespaces/default/configmaps"));
        return string.Join(",", list["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }
}

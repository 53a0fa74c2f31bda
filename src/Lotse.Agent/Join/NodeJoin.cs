using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using k8s;

namespace Lotse.Agent.Join;

/// <summary>The credentials a joined node uses: the server's CA and the node's client certificate.</summary>
public sealed record NodeCredentials(string CaPem, string CertificatePem, string KeyPem, Kubelet.KubeletServing Serving)
{
    /// <summary>Why the server could not be asked, when these are the node's saved credentials used without it.</summary>
    public string? Unreachable { get; init; }

    /// <param name="userAgent">The client's User-Agent, whose program name kube takes as the field manager of its writes.</param>
    public KubernetesClientConfiguration ClientConfiguration(string server, string? userAgent = null) => new()
    {
        UserAgent = userAgent,
        Host = server,
        ClientCertificateData = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(CertificatePem)),
        ClientCertificateKeyData = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(KeyPem)),
        SslCaCerts = [X509Certificate2.CreateFromPem(CaPem)],
    };
}

/// <summary>
/// Joins a server the way K3s agents do: fetch <c>/cacerts</c> without trusting anyone, accept
/// it only if it matches the hash pinned in the join token, then — over TLS verified against that
/// CA — get the node's client certificate from <c>/v1-lotse/client-kubelet</c> with the token's
/// secret. Credentials are kept under the agent's directory and reused while they are valid for
/// the same CA.
/// </summary>
public static class NodeJoin
{
    private static readonly string[] CredentialFiles = ["server-ca.crt", "client-kubelet.crt", "client-kubelet.key", "serving-kubelet.crt", "serving-kubelet.key", "client-ca.crt"];

    public static async Task<NodeCredentials> JoinAsync(string server, string secret, Func<string, bool> caMatchesToken, string nodeName, string nodeIp, string agentDir, CancellationToken cancellationToken)
    {
        server = server.TrimEnd('/');
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme != "https")
        {
            throw new ArgumentException($"--server \"{server}\" must be an https:// URL such as https://10.0.0.1:6443");
        }

        var directory = Path.Combine(agentDir, "credentials");
        var cached = Load(directory);
        string caPem;
        try
        {
            caPem = await FetchCaAsync(server, cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException { InnerException: HttpRequestException } or TaskCanceledException && !cancellationToken.IsCancellationRequested
            && cached is not null && caMatchesToken(cached.CaPem) && StillValid(cached.CertificatePem, $"system:node:{nodeName}") && StillValid(cached.Serving.CertificatePem, nodeName))
        {
            // The server is away: a node that joined before starts on its saved credentials (its static
            // pods run meanwhile) and reaches the API server once it is back.
            return cached with { Unreachable = e.Message };
        }

        if (!caMatchesToken(caPem))
        {
            throw new InvalidOperationException($"the CA served by {server} does not match the hash in the join token; refusing to trust it");
        }

        if (cached is not null && cached.CaPem == caPem && StillValid(cached.CertificatePem, $"system:node:{nodeName}") && StillValid(cached.Serving.CertificatePem, nodeName))
        {
            return cached;
        }

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate is not null && IsSignedBy(certificate, caPem) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, server + "/v1-lotse/client-kubelet") { Content = JsonContent.Create(new JsonObject { ["nodeName"] = nodeName, ["nodeIp"] = nodeIp }) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var message = TryMessage(body) ?? response.ReasonPhrase;
            throw new InvalidOperationException($"the server refused to join node {nodeName}: {(int)response.StatusCode} {message}");
        }

        var answer = JsonNode.Parse(body)!;
        string Field(string name) => answer[name]?.GetValue<string>() ?? throw new InvalidOperationException($"the server's join answer has no {name}");
        var credentials = new NodeCredentials(caPem, Field("certificate"), Field("key"), new Kubelet.KubeletServing(Field("servingCertificate"), Field("servingKey"), Field("clientCa")));
        Save(directory, credentials);
        return credentials;
    }

    private static async Task<string> FetchCaAsync(string server, CancellationToken cancellationToken)
    {
        // Nothing is trusted yet: the token's hash decides whether what comes back is accepted.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            return await http.GetStringAsync(server + "/cacerts", cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"cannot reach the server at {server}: {e.Message}", e);
        }
    }

    private static bool IsSignedBy(X509Certificate2 certificate, string caPem)
    {
        using var ca = X509Certificate2.CreateFromPem(caPem);
        return Certificates.ChainsTo(certificate, ca);
    }

    private static bool StillValid(string certificatePem, string commonName)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        return certificate.NotAfter > DateTime.Now.AddDays(1) && certificate.GetNameInfo(X509NameType.SimpleName, false) == commonName;
    }

    private static NodeCredentials? Load(string directory)
    {
        var files = CredentialFiles.Select(f => Path.Combine(directory, f)).ToArray();
        if (!files.All(File.Exists))
        {
            return null;
        }

        var texts = files.Select(File.ReadAllText).ToArray();
        return new NodeCredentials(texts[0], texts[1], texts[2], new Kubelet.KubeletServing(texts[3], texts[4], texts[5]));
    }

    private static void Save(string directory, NodeCredentials credentials)
    {
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(directory, "server-ca.crt"), credentials.CaPem);
        File.WriteAllText(Path.Combine(directory, "client-kubelet.crt"), credentials.CertificatePem);
        File.WriteAllText(Path.Combine(directory, "serving-kubelet.crt"), credentials.Serving.CertificatePem);
        File.WriteAllText(Path.Combine(directory, "client-ca.crt"), credentials.Serving.ClientCaPem);
        foreach (var (file, text) in new[] { ("client-kubelet.key", credentials.KeyPem), ("serving-kubelet.key", credentials.Serving.KeyPem) })
        {
            var key = Path.Combine(directory, file);
            File.WriteAllText(key, text);
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static string? TryMessage(string body)
    {
        try
        {
            return JsonNode.Parse(body)?["message"]?.GetValue<string>();
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

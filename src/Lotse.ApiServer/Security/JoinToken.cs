using System.Security.Cryptography;
using System.Text;

namespace Lotse.ApiServer.Security;

/// <summary>
/// The join token in K3s' format: <c>K10&lt;sha256 hex of the CA bundle&gt;::server:&lt;secret&gt;</c>. The hash
/// lets an agent verify the server's CA before it trusts anything the server says; the secret
/// authenticates the agent. A bare secret (without the K10 prefix) is accepted too, as K3s does.
/// </summary>
public sealed class JoinToken
{
    private const string Prefix = "K10";

    private JoinToken(string? caHash, string username, string secret)
    {
        CaHash = caHash;
        Username = username;
        Secret = secret;
    }

    public string? CaHash { get; }

    public string Username { get; }

    public string Secret { get; }

    public static string HashCa(string caBundlePem) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(caBundlePem)));

    public static JoinToken Parse(string token)
    {
        token = token.Trim();
        if (token.StartsWith(Prefix, StringComparison.Ordinal) && token.Contains("::", StringComparison.Ordinal))
        {
            var split = token.IndexOf("::", StringComparison.Ordinal);
            var hash = token[Prefix.Length..split];
            var credentials = token[(split + 2)..];
            var colon = credentials.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? new JoinToken(hash, "server", credentials) : new JoinToken(hash, credentials[..colon], credentials[(colon + 1)..]);
        }

        return new JoinToken(null, "server", token);
    }

    public string Format() => CaHash is null ? Secret : $"{Prefix}{CaHash}::{Username}:{Secret}";

    public bool VerifyCa(string caBundlePem) => CaHash is null || CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(CaHash), Encoding.ASCII.GetBytes(HashCa(caBundlePem)));

    /// <summary>Accepts the full token or just its secret, compared in constant time.</summary>
    public bool SecretMatches(string presented)
    {
        var secret = Parse(presented).Secret;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(Secret));
    }

    /// <summary>
    /// The server's token file: written on first start (from <c>--token</c> or a random secret) and
    /// reused after; always stored in full K10 form pinning the current CA.
    /// </summary>
    public static string LoadOrCreate(string tokenFile, string? explicitToken, string caBundlePem)
    {
        string secret;
        if (!string.IsNullOrWhiteSpace(explicitToken))
        {
            secret = Parse(explicitToken).Secret;
        }
        else if (File.Exists(tokenFile))
        {
            secret = Parse(File.ReadAllText(tokenFile)).Secret;
        }
        else
        {
            secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        }

        var token = new JoinToken(HashCa(caBundlePem), "server", secret).Format();
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(tokenFile))!);
            if (!File.Exists(tokenFile) || File.ReadAllText(tokenFile).Trim() != token)
            {
                File.WriteAllText(tokenFile, token + "\n");
                File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"cannot write the join token {tokenFile}: {ex.Message}");
        }

        return token;
    }
}

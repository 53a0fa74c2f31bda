using System.Text;

namespace Lotse.ApiServer.Security;

/// <summary>The admin kubeconfig, shaped like K3s' <c>k3s.yaml</c>: one cluster, context and user named "default".</summary>
public static class Kubeconfig
{
    public static string Render(string serverUrl, string caPem, string clientCertificatePem, string clientKeyPem, string name = "default")
    {
        static string B64(string pem) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pem));
        return $"""
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority-data: {B64(caPem)}
                server: {serverUrl}
              name: {name}
            contexts:
            - context:
                cluster: {name}
                user: {name}
              name: {name}
            current-context: {name}
            kind: Config
            preferences: {"{}"}
            users:
            - name: {name}
              user:
                client-certificate-data: {B64(clientCertificatePem)}
                client-key-data: {B64(clientKeyPem)}

            """;
    }

    /// <summary>Writes atomically (temporary file, then rename) with the given Unix mode, creating the folder.</summary>
    public static void Write(string path, string content, int mode)
    {
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(folder);
            var temp = path + ".tmp";
            File.WriteAllText(temp, content);
            File.SetUnixFileMode(temp, (UnixFileMode)mode);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"cannot write the kubeconfig {path}: {ex.Message} (see --write-kubeconfig)");
        }
    }
}

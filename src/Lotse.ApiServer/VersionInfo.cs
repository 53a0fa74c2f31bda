using System.Text.Json.Nodes;

namespace Lotse.ApiServer;

/// <summary>
/// What <c>/version</c> answers: the Kubernetes release whose API Lotse serves, marked as Lotse's build.
/// The gcloud kubectl dispatcher picks its kubectl binary by <see cref="Minor"/>.
/// </summary>
public static class VersionInfo
{
    public const string Major = "1";
    public const string Minor = "33";
    public const string KubernetesVersion = "v1.33.0";

    public static string GitVersion => $"{KubernetesVersion}+lotse";

    /// <summary>kube's User-Agent for a component (<c>kubelet/v1.33.0+lotse (linux/amd64)</c>): its program name is the field manager of its writes.</summary>
    public static string UserAgent(string component) => $"{component}/{GitVersion} ({Platform})";

    /// <summary>Go's GOOS/GOARCH of this build, as <c>/version</c> and User-Agents name it.</summary>
    public static string Platform => $"linux/{(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64")}";

    public static JsonObject ToJson() => new()
    {
        ["major"] = Major,
        ["minor"] = Minor,
        ["emulationMajor"] = Major,
        ["emulationMinor"] = Minor,
        ["minCompatibilityMajor"] = Major,
        ["minCompatibilityMinor"] = "32",
        ["gitVersion"] = GitVersion,
        ["gitCommit"] = ThisAssembly.Commit,
        ["gitTreeState"] = "clean",
        ["buildDate"] = ThisAssembly.BuildDate,
        ["goVersion"] = $"dotnet{Environment.Version}",
        ["compiler"] = "dotnet",
        ["platform"] = Platform,
    };

    private static class ThisAssembly
    {
        public static string Commit => typeof(VersionInfo).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+').ElementAtOrDefault(1) ?? "unknown";

        public static string BuildDate => File.GetLastWriteTimeUtc(typeof(VersionInfo).Assembly.Location).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }
}

using System.Diagnostics;

namespace Lotse.E2E.Tests;

/// <summary>Runs one of the real kubectl binaries on this machine against a kubeconfig, with its own cache dir.</summary>
public sealed class Kubectl(string binary, string kubeconfig, string cacheDir)
{
    public const string Directory = "/usr/lib/google-cloud-sdk/bin";

    public string Binary => binary;

    /// <summary>Every kubectl.1.N on this machine, oldest first.</summary>
    public static IEnumerable<string> Versions() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory, "kubectl.1.*").Select(Path.GetFileName).Select(f => f!["kubectl.".Length..]).OrderBy(v => int.Parse(v.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture))
            : [];

    public static string PathOf(string version) => Path.Combine(Directory, $"kubectl.{version}");

    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) => await RunWithInputAsync(null, args);

    public async Task<(int ExitCode, string Stdout, string Stderr)> RunWithInputAsync(string? stdin, params string[] args) =>
        await RunCoreAsync(stdin, TimeSpan.FromSeconds(60), killAfter: false, args);

    /// <summary>Runs with extra environment variables (<c>EDITOR</c> for <c>kubectl edit</c>).</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        await RunCoreAsync(null, TimeSpan.FromSeconds(60), killAfter: false, args, environment);

    /// <summary>Runs a command that does not end by itself (<c>get -w</c>) and stops it after <paramref name="duration"/>.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunForAsync(TimeSpan duration, params string[] args) =>
        await RunCoreAsync(null, duration, killAfter: true, args);

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunCoreAsync(string? stdin, TimeSpan limit, bool killAfter, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--kubeconfig");
        info.ArgumentList.Add(kubeconfig);
        info.ArgumentList.Add("--cache-dir");
        info.ArgumentList.Add(cacheDir);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["KUBECONFIG"] = kubeconfig;
        info.Environment["HOME"] = cacheDir;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        using var cts = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            if (!killAfter)
            {
                throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish in {limit.TotalSeconds} s");
            }
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}

using System.Diagnostics;

namespace Lotse.Testing;

/// <summary>Runs a host command (ip, nft, umount) for test set-up and clean-up.</summary>
public static class HostCommands
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (output + error).Trim());
    }

    /// <summary>Whatever containerd left mounted under <paramref name="directory"/> (after a crash), deepest first.</summary>
    public static void UnmountUnder(string directory)
    {
        var mounts = File.ReadAllLines("/proc/self/mounts")
            .Select(l => l.Split(' ')[1].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(m => m.StartsWith(directory + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length);
        foreach (var mount in mounts)
        {
            RunAsync("umount", "-l", mount).GetAwaiter().GetResult();
        }
    }
}

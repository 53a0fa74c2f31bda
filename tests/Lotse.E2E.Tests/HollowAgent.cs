using System.Diagnostics;

namespace Lotse.E2E.Tests;

/// <summary><c>lotse agent --hollow-nodes N</c> against a test server: simulated nodes, nothing runs.</summary>
internal static class HollowAgent
{
    public static Process Start(string kubeconfig, int nodes, string leaseInterval)
    {
        var info = new ProcessStartInfo(LotseServerProcess.Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["agent", "--hollow-nodes", nodes.ToString(System.Globalization.CultureInfo.InvariantCulture), "--kubeconfig", kubeconfig, "--lease-interval", leaseInterval])
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }

    /// <summary>Kills it (SIGKILL: the nodes fall silent) unless it is gone already.</summary>
    public static async Task StopAsync(Process agent)
    {
        if (!agent.HasExited)
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
        }
    }
}

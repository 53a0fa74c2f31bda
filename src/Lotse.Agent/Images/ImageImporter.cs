using System.Diagnostics;
using Lotse.Agent.Containerd;

namespace Lotse.Agent.Images;

/// <summary>
/// Imports image archives (OCI layout or docker-save tars) into containerd's <c>k8s.io</c>
/// namespace — the one CRI serves — with containerd's own <c>ctr</c>, the way K3s loads
/// air-gapped images from its images directory.
/// </summary>
public static class ImageImporter
{
    /// <summary>Imports <paramref name="archive"/>; OCI archives whose index names only a tag are named <paramref name="baseName"/>:tag.</summary>
    public static async Task ImportAsync(string containerdSocket, string archive, string? baseName, CancellationToken cancellationToken)
    {
        var ctr = ContainerdProcess.FindBinary("ctr") ?? throw new InvalidOperationException("ctr (from the containerd package) is not installed");
        var start = new ProcessStartInfo(ctr)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--address", containerdSocket, "--namespace", "k8s.io", "images", "import" })
        {
            start.ArgumentList.Add(argument);
        }

        if (baseName is not null)
        {
            start.ArgumentList.Add("--base-name");
            start.ArgumentList.Add(baseName);
        }

        start.ArgumentList.Add(archive);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("ctr did not start");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"importing {Path.GetFileName(archive)} failed: {(await error).Trim()} {(await output).Trim()}".Trim());
        }
    }

    /// <summary>Writes <paramref name="image"/> to a temporary archive and imports it as <paramref name="baseName"/>:tag.</summary>
    public static async Task ImportAsync(string containerdSocket, OciImage image, string baseName, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Path.GetTempPath(), $"lotse-image-{Guid.NewGuid():N}.tar");
        try
        {
            await using (var stream = File.Create(file))
            {
                image.WriteArchive(stream);
            }

            await ImportAsync(containerdSocket, file, baseName, cancellationToken);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

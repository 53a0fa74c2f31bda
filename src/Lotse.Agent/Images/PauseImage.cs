using Grpc.Core;
using Lotse.Agent.Cri;
using Lotse.Agent.Cri.V1;

namespace Lotse.Agent.Images;

/// <summary>
/// The sandbox ("pause") image. Without registry access the agent builds its own from the static
/// <c>catatonit</c> binary (Debian's package; <c>-P</c> makes it a pause process that reaps
/// zombies) and imports it, so pods run on machines with no internet.
/// </summary>
public static class PauseImage
{
    public const string Repository = "lotse.io/pause";
    public const string Tag = "catatonit";
    public const string Default = Repository + ":" + Tag;
    private const string Catatonit = "/usr/bin/catatonit";

    /// <summary>Makes sure <paramref name="image"/> is present; builds and imports the default one if it is missing.</summary>
    public static async Task EnsureAsync(CriClient cri, string containerdSocket, string image, CancellationToken cancellationToken)
    {
        var status = await cri.Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = image } }, cancellationToken: cancellationToken);
        if (status.Image is not null)
        {
            return;
        }

        if (image != Default)
        {
            try
            {
                await cri.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } }, cancellationToken: cancellationToken);
                return;
            }
            catch (RpcException e)
            {
                throw new InvalidOperationException($"the pause image {image} is not present and could not be pulled: {e.Status.Detail}", e);
            }
        }

        if (!File.Exists(Catatonit))
        {
            throw new InvalidOperationException($"cannot build the pause image: {Catatonit} is missing (apt-get install catatonit), or pass --pause-image");
        }

        var pause = new OciImage(Tag) { Entrypoint = ["/pause", "-P"] }.AddHostFile("pause", Catatonit);
        await ImageImporter.ImportAsync(containerdSocket, pause, Repository, cancellationToken);
    }
}

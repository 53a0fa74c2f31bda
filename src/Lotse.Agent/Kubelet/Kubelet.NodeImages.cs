using System.Text.Json.Nodes;
using Grpc.Core;
using Lotse.Agent.Cri.V1;
using Microsoft.Extensions.Logging;

namespace Lotse.Agent.Kubelet;

public sealed partial class Kubelet
{
    private readonly ImageGarbage _imageGarbage = new();

    /// <summary>
    /// Collects unused images when the image file system is too full (<see cref="ImageGarbage"/>),
    /// then lists what is stored for the Node's <c>status.images</c>.
    /// </summary>
    private async Task<JsonArray> ImagesAsync(CancellationToken cancellationToken)
    {
        try
        {
            _lastImages = await CollectAndListImagesAsync(cancellationToken);
        }
        catch (RpcException e)
        {
            // The runtime is away: Ready says so; the images stay as last seen.
            LogImageListFailed(_logger, e.Status.Detail);
        }

        return (JsonArray)(_lastImages ?? []).DeepClone();
    }

    private JsonArray? _lastImages;

    private async Task<JsonArray> CollectAndListImagesAsync(CancellationToken cancellationToken)
    {
        var images = (await _cri.Images.ListImagesAsync(new ListImagesRequest(), cancellationToken: cancellationToken)).Images;
        if (_pressure.Last?.Values.TryGetValue("imagefs.available", out var fs) == true)
        {
            var containers = await _cri.Runtime.ListContainersAsync(new ListContainersRequest(), cancellationToken: cancellationToken);
            var inUse = containers.Containers.Select(c => c.ImageRef).ToHashSet(StringComparer.Ordinal);
            var plan = _imageGarbage.Plan(images, inUse, _options.PauseImage, fs.Capacity - fs.Available, fs.Capacity, _time.GetUtcNow());
            foreach (var image in plan)
            {
                try
                {
                    await _cri.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = image.Id } }, cancellationToken: cancellationToken);
                    LogImageRemoved(_logger, string.Join(",", image.RepoTags), (long)image.Size, _imageGarbage.HighPercent);
                }
                catch (RpcException e)
                {
                    LogImageRemoveFailed(_logger, image.Id, e.Status.Detail);
                }
            }

            if (plan.Count > 0)
            {
                images = (await _cri.Images.ListImagesAsync(new ListImagesRequest(), cancellationToken: cancellationToken)).Images;
            }
        }

        return new JsonArray([.. ImageGarbage.NodeImages(images).Select(i => (JsonNode)new JsonObject
        {
            ["names"] = new JsonArray([.. i.Names.Select(n => (JsonNode)JsonValue.Create(n))]),
            ["sizeBytes"] = i.Size,
        })]);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "image garbage collection removed {Image} ({Bytes} bytes): the image file system was above {Percent} %")]
    private static partial void LogImageRemoved(ILogger logger, string image, long bytes, int percent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "listing images failed: {Error}")]
    private static partial void LogImageListFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "image garbage collection could not remove {Image}: {Error}")]
    private static partial void LogImageRemoveFailed(ILogger logger, string image, string error);
}

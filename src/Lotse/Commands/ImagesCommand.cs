using System.CommandLine;
using Lotse.Agent.Images;
using Lotse.ApiServer;

namespace Lotse.Commands;

/// <summary><c>lotse images import FILE…</c>: image archives into this host's node agent's containerd (K3s' air-gap images, on demand).</summary>
internal static class ImagesCommand
{
    public static Command Build()
    {
        var common = new CommonOptions();
        var files = new Argument<string[]>("FILE") { Description = "Image archives (docker save or OCI layout tars)", Arity = ArgumentArity.OneOrMore };
        var import = new Command("import", "Import image archives into the node agent's containerd on this host (the agent must be running)");
        common.AddTo(import);
        import.Arguments.Add(files);
        import.SetAction(async (parsed, cancellationToken) =>
        {
            var socket = Path.Combine(parsed.GetValue(common.DataDir)!, "agent", "containerd", "containerd.sock");
            if (!File.Exists(socket))
            {
                throw new StartupException($"no node agent's containerd at {socket}: start lotse server or lotse agent with this --data-dir first");
            }

            foreach (var file in parsed.GetValue(files)!)
            {
                if (!File.Exists(file))
                {
                    throw new StartupException($"image archive {file} not found");
                }

                try
                {
                    await ImageImporter.ImportAsync(socket, file, null, cancellationToken);
                }
                catch (InvalidOperationException e)
                {
                    throw new StartupException(e.Message, e);
                }

                Console.WriteLine($"imported {file}");
            }

            return 0;
        });
        var images = new Command("images", "Manage the node agent's images");
        images.Subcommands.Add(import);
        return images;
    }
}

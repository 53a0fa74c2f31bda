using System.CommandLine;
using System.Reflection;
using Lotse.ApiServer;
using Lotse.ApiServer.Errors;
using Lotse.Configuration;
using Lotse.Storage;

namespace Lotse.Commands;

/// <summary>The <c>lotse</c> command line: subcommands named as K3s names them.</summary>
internal static class LotseCli
{
    public static string Version =>
        typeof(LotseCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    internal static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(15);

    public static RootCommand Build()
    {
        var root = new RootCommand("Lotse: a lightweight Kubernetes distribution in one executable.");
        root.Subcommands.Add(ServerCommand.Build());
        root.Subcommands.Add(AgentCommand.Build());
        root.Subcommands.Add(ImagesCommand.Build());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var root = Build();
            var parsed = root.Parse(args);
            parsed = ConfigFile.Merge(root, parsed, args);
            // On SIGTERM/SIGINT the command's token is cancelled and the process waits this long for an
            // orderly stop (kubelet, containerd, store) before exiting with 143/130; the default of two
            // seconds is shorter than stopping a supervised containerd.
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = ShutdownTimeout });
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        catch (Exception ex)
        {
            // Users get one line: what is wrong and, from the thrower, what to do. Expected failures
            // (a bad database, flag, certificate or port) say so plainly; anything else names its type.
            var expected = ex is StoreException or ConfigException or StartupException or StatusException or UnauthorizedAccessException or IOException
                || ex is System.Net.Sockets.SocketException || ex.InnerException is System.Net.Sockets.SocketException;
            await Console.Error.WriteLineAsync(expected ? $"lotse: {OneLine(ex.Message)}" : $"lotse: unexpected {ex.GetType().Name}: {OneLine(ex.Message)}");
            return 1;
        }
    }

    internal static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}

using System.CommandLine;
using System.Reflection;
using Lotse.Configuration;
using Lotse.Storage;

namespace Lotse.Commands;

/// <summary>The <c>lotse</c> command line: subcommands named as K3s names them.</summary>
internal static class LotseCli
{
    public static string Version =>
        typeof(LotseCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static RootCommand Build()
    {
        var root = new RootCommand("Lotse: a lightweight Kubernetes distribution in one executable.");
        root.Subcommands.Add(ServerCommand.Build());
        root.Subcommands.Add(AgentCommand.Build());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var root = Build();
            var parsed = root.Parse(args);
            parsed = ConfigFile.Merge(root, parsed, args);
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is StoreException or ConfigException or UnauthorizedAccessException or IOException)
        {
            await Console.Error.WriteLineAsync($"lotse: {OneLine(ex.Message)}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
    }

    internal static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}

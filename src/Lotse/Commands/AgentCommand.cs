using System.CommandLine;

namespace Lotse.Commands;

internal static class AgentCommand
{
    public static Command Build()
    {
        var common = new CommonOptions();
        var server = new Option<string?>("--server", "-s") { Description = "Server to connect to (https://HOST:6443)" };
        var token = new Option<string?>("--token", "-t") { Description = "Join token of the server" };
        var command = new Command("agent", "Run a node agent that joins a server (not yet available in this release).");
        common.AddTo(command);
        command.Options.Add(server);
        command.Options.Add(token);
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("lotse: the node agent is not yet available in this release; run `lotse server` for the control plane");
            return 2;
        });
        return command;
    }
}

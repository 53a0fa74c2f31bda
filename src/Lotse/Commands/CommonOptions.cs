using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Lotse.Commands;

/// <summary>Flags every long-running subcommand has (K3s names).</summary>
internal sealed class CommonOptions
{
    public Option<string> DataDir { get; } = new("--data-dir", "-d")
    {
        Description = "Folder to hold state (default /var/lib/lotse, or ~/.lotse when not root)",
        DefaultValueFactory = _ => DefaultDataDir(),
    };

    public Option<string> Config { get; } = new("--config", "-c")
    {
        Description = "Load configuration from this YAML file (flag names as keys; the command line wins)",
        DefaultValueFactory = _ => ConfigFileDefault,
    };

    public Option<string> LogFormat { get; } = new("--log-format")
    {
        Description = "Log format: text or json",
        DefaultValueFactory = _ => "text",
    };

    public Option<int> Verbosity { get; } = new("--v", "-v")
    {
        Description = "Log level verbosity: 0 info, 1-3 debug, 4 and more trace",
        DefaultValueFactory = _ => 0,
    };

    public const string ConfigFileDefault = "/etc/lotse/config.yaml";

    public CommonOptions()
    {
        LogFormat.AcceptOnlyFromAmong("text", "json");
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(DataDir);
        command.Options.Add(LogFormat);
        command.Options.Add(Verbosity);
    }

    public static string DefaultDataDir() =>
        Environment.IsPrivilegedProcess
            ? "/var/lib/lotse"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".lotse");

    public Action<ILoggingBuilder> Logging(ParseResult parsed)
    {
        var json = parsed.GetValue(LogFormat) == "json";
        var verbosity = parsed.GetValue(Verbosity);
        var level = verbosity switch
        {
            <= 0 => LogLevel.Information,
            < 4 => LogLevel.Debug,
            _ => LogLevel.Trace,
        };
        return builder =>
        {
            builder.SetMinimumLevel(level);
            builder.AddFilter("Microsoft", verbosity >= 4 ? LogLevel.Trace : LogLevel.Warning);
            builder.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
            if (json)
            {
                builder.AddJsonConsole(o => o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ");
            }
            else
            {
                builder.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                    o.UseUtcTimestamp = true;
                    o.ColorBehavior = LoggerColorBehavior.Disabled;
                });
            }

            builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        };
    }
}

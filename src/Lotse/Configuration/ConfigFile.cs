using System.CommandLine;
using System.CommandLine.Parsing;
using Lotse.Commands;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Lotse.Configuration;

/// <summary>
/// K3s' config file: every flag of the invoked command may be set as <c>flag-name: value</c>
/// (a list for repeatable flags) in <c>/etc/lotse/config.yaml</c> or the file <c>--config</c> names.
/// A flag given on the command line wins over the file.
/// </summary>
internal static class ConfigFile
{
    public static ParseResult Merge(RootCommand root, ParseResult parsed, string[] args)
    {
        var command = parsed.CommandResult.Command;
        if (parsed.Errors.Count > 0 || command.Options.FirstOrDefault(o => o.Name == "--config") is not Option<string> configOption)
        {
            return parsed;
        }

        var path = parsed.GetValue(configOption);
        var explicitPath = parsed.GetResult(configOption) is { Implicit: false };
        if (string.IsNullOrEmpty(path) || (!explicitPath && !File.Exists(path)))
        {
            return parsed;
        }

        var extra = new List<string>();
        foreach (var (key, values) in Read(path))
        {
            var option = command.Options.FirstOrDefault(o => o.Name == "--" + key || o.Aliases.Contains("--" + key))
                ?? throw new ConfigException($"config file {path}: unknown flag \"{key}\" for `lotse {command.Name}`");
            if (option == configOption || parsed.GetResult(option) is { Implicit: false })
            {
                continue; // the command line wins
            }

            foreach (var value in values)
            {
                extra.Add(option.Name);
                extra.Add(value);
            }
        }

        if (extra.Count == 0)
        {
            return parsed;
        }

        var merged = root.Parse([.. args, .. extra]);
        if (merged.Errors.Count > 0)
        {
            throw new ConfigException($"config file {path}: {merged.Errors[0].Message}");
        }

        return merged;
    }

    /// <summary>Reads a flat YAML mapping of flag names to a scalar or a list of scalars.</summary>
    internal static IEnumerable<(string Key, IReadOnlyList<string> Values)> Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read config file {path}: {ex.Message}", ex);
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new ConfigException($"config file {path} is not valid YAML (line {ex.Start.Line}): {LotseCli.OneLine(ex.InnerException?.Message ?? ex.Message)}", ex);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return [];
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode mapping)
        {
            throw new ConfigException($"config file {path} must be a mapping of flag names to values");
        }

        var result = new List<(string, IReadOnlyList<string>)>();
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? throw new ConfigException($"config file {path}: keys must be flag names");
            result.Add((key, valueNode switch
            {
                YamlScalarNode scalar => [scalar.Value ?? string.Empty],
                YamlSequenceNode list => list.Children.Select(c => (c as YamlScalarNode)?.Value
                    ?? throw new ConfigException($"config file {path}: \"{key}\" must be a list of plain values")).ToList(),
                _ => throw new ConfigException($"config file {path}: \"{key}\" must be a value or a list of values"),
            }));
        }

        return result;
    }
}

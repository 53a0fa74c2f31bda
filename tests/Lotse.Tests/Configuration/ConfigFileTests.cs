using Lotse.Commands;
using Lotse.Configuration;

namespace Lotse.Tests.Configuration;

public sealed class ConfigFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lotse-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string yaml)
    {
        var path = Path.Combine(_dir, "config.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static System.CommandLine.ParseResult Parse(params string[] args)
    {
        var root = LotseCli.Build();
        return ConfigFile.Merge(root, root.Parse(args), args);
    }

    private static string? Value(System.CommandLine.ParseResult parsed, string name) =>
        parsed.CommandResult.Command.Options.First(o => o.Name == name) is System.CommandLine.Option<string> option
            ? parsed.GetValue(option)
            : null;

    [Fact]
    public void Merge_KeysInFile_SetFlags()
    {
        var path = Write("data-dir: /srv/lotse\ndatastore-endpoint: http://127.0.0.1:2379\n");
        var parsed = Parse("server", "--config", path);
        Assert.Empty(parsed.Errors);
        Assert.Equal("/srv/lotse", Value(parsed, "--data-dir"));
        Assert.Equal("http://127.0.0.1:2379", Value(parsed, "--datastore-endpoint"));
    }

    [Fact]
    public void Merge_FlagOnCommandLine_WinsOverFile()
    {
        var path = Write("data-dir: /srv/lotse\n");
        var parsed = Parse("server", "--config", path, "--data-dir", "/tmp/cli");
        Assert.Equal("/tmp/cli", Value(parsed, "--data-dir"));
    }

    [Fact]
    public void Merge_UnknownKey_ThrowsNamingTheKey()
    {
        var path = Write("no-such-flag: 1\n");
        var ex = Assert.Throws<ConfigException>(() => Parse("server", "--config", path));
        Assert.Contains("\"no-such-flag\"", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Merge_InvalidYaml_ThrowsOneLine()
    {
        var path = Write("data-dir: [unclosed\n");
        var ex = Assert.Throws<ConfigException>(() => Parse("server", "--config", path));
        Assert.Contains("not valid YAML", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_BadValue_ThrowsNamingTheFile()
    {
        var path = Write("log-format: xml\n");
        var ex = Assert.Throws<ConfigException>(() => Parse("server", "--config", path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_ExplicitMissingFile_Throws()
    {
        var ex = Assert.Throws<ConfigException>(() => Parse("server", "--config", Path.Combine(_dir, "absent.yaml")));
        Assert.Contains("cannot read config file", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_EmptyFile_ChangesNothing()
    {
        var path = Write("");
        var parsed = Parse("server", "--config", path, "--data-dir", "/x");
        Assert.Empty(parsed.Errors);
        Assert.Equal("/x", Value(parsed, "--data-dir"));
    }
}

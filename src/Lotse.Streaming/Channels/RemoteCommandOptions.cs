namespace Lotse.Streaming.Channels;

/// <summary>Which standard streams an exec or attach session carries (the query of the request).</summary>
public sealed record RemoteCommandOptions(bool Stdin, bool Stdout, bool Stderr, bool Tty)
{
    /// <summary>With a TTY there is no separate stderr: the terminal carries both.</summary>
    public bool SeparateStderr => Stderr && !Tty;
}

namespace Lotse.ApiServer.Authentication;

/// <summary>Who made a request (kubernetes' user.Info): name, optional uid, groups.</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups, string? Uid = null)
{
    public const string Authenticated = "system:authenticated";

    public static UserInfo Anonymous { get; } = new("system:anonymous", ["system:unauthenticated"]);
}

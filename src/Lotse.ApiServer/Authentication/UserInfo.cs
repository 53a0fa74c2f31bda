namespace Lotse.ApiServer.Authentication;

/// <summary>Who made a request (kubernetes' user.Info): name, optional uid, groups, extra attributes.</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups, string? Uid = null, IReadOnlyDictionary<string, IReadOnlyList<string>>? Extra = null)
{
    public const string Authenticated = "system:authenticated";

    public static UserInfo Anonymous { get; } = new("system:anonymous", ["system:unauthenticated"]);
}

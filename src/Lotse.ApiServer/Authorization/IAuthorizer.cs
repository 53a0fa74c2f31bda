using Lotse.ApiServer.Authentication;

namespace Lotse.ApiServer.Authorization;

/// <summary>What a request wants to do (kubernetes' authorizer.Attributes).</summary>
public sealed record RequestAttributes(
    string Verb,
    string? Group = null,
    string? Version = null,
    string? Resource = null,
    string? Subresource = null,
    string? Namespace = null,
    string? Name = null,
    string? Path = null)
{
    public bool IsResourceRequest => Resource is not null;
}

/// <summary>The authorization seam: RBAC and the node authorizer fill it in a later issue.</summary>
public interface IAuthorizer
{
    ValueTask<(bool Allowed, string Reason)> AuthorizeAsync(UserInfo user, RequestAttributes attributes, CancellationToken cancellationToken);
}

/// <summary>Every authenticated user may do everything (the default until RBAC is enforced).</summary>
public sealed class AllowAuthenticatedAuthorizer : IAuthorizer
{
    public ValueTask<(bool Allowed, string Reason)> AuthorizeAsync(UserInfo user, RequestAttributes attributes, CancellationToken cancellationToken) =>
        ValueTask.FromResult(user.Groups.Contains(UserInfo.Authenticated) ? (true, string.Empty) : (false, "anonymous requests are not authorized"));
}

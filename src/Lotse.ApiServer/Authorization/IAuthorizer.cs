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

/// <summary>A rule of what a user may do (kubernetes' ResourceRule / NonResourceRule, as SelfSubjectRulesReview lists them).</summary>
public sealed record AccessRule(IReadOnlyList<string> Verbs, IReadOnlyList<string>? ApiGroups = null, IReadOnlyList<string>? Resources = null, IReadOnlyList<string>? NonResourceUrls = null);

/// <summary>The authorization seam: RBAC and the node authorizer fill it in a later issue.</summary>
public interface IAuthorizer
{
    ValueTask<(bool Allowed, string Reason)> AuthorizeAsync(UserInfo user, RequestAttributes attributes, CancellationToken cancellationToken);

    /// <summary>What <paramref name="user"/> may do in <paramref name="namespace"/>: resource and non-resource rules, and whether the list is incomplete.</summary>
    ValueTask<(IReadOnlyList<AccessRule> Resource, IReadOnlyList<AccessRule> NonResource, bool Incomplete)> RulesForAsync(UserInfo user, string @namespace, CancellationToken cancellationToken);
}

/// <summary>Every authenticated user may do everything (the default until RBAC is enforced).</summary>
public sealed class AllowAuthenticatedAuthorizer : IAuthorizer
{
    public ValueTask<(bool Allowed, string Reason)> AuthorizeAsync(UserInfo user, RequestAttributes attributes, CancellationToken cancellationToken) =>
        ValueTask.FromResult(user.Groups.Contains(UserInfo.Authenticated) ? (true, string.Empty) : (false, "anonymous requests are not authorized"));

    public ValueTask<(IReadOnlyList<AccessRule> Resource, IReadOnlyList<AccessRule> NonResource, bool Incomplete)> RulesForAsync(UserInfo user, string @namespace, CancellationToken cancellationToken) =>
        ValueTask.FromResult<(IReadOnlyList<AccessRule>, IReadOnlyList<AccessRule>, bool)>(user.Groups.Contains(UserInfo.Authenticated)
            ? ([new AccessRule(["*"], ["*"], ["*"])], [new AccessRule(["*"], NonResourceUrls: ["*"])], false)
            : ([], [], false));
}

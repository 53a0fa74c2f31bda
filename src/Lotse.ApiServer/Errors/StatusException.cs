using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Errors;

/// <summary>
/// An API error as a Kubernetes <c>Status</c>: the HTTP code, the machine-readable reason, the
/// message kubectl prints after "Error from server (Reason): ", and details. The factories word
/// their messages as apimachinery's errors package does.
/// </summary>
public sealed class StatusException : Exception
{
    private StatusException(int code, string reason, string message, JsonObject? details = null, int? retryAfterSeconds = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Details = details;
        RetryAfterSeconds = retryAfterSeconds;
    }

    public int Code { get; }

    public string Reason { get; }

    public JsonObject? Details { get; }

    public int? RetryAfterSeconds { get; }

    public JsonObject ToJson()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
            ["reason"] = Reason,
        };
        var details = Details?.DeepClone() as JsonObject;
        if (RetryAfterSeconds is { } retry)
        {
            details ??= [];
            details["retryAfterSeconds"] = retry;
        }

        if (details is { Count: > 0 })
        {
            status["details"] = details;
        }

        status["code"] = Code;
        return status;
    }

    private static JsonObject Qualified(string groupResource, string? name)
    {
        var dot = groupResource.IndexOf('.', StringComparison.Ordinal);
        var details = new JsonObject();
        if (!string.IsNullOrEmpty(name))
        {
            details["name"] = name;
        }

        if (dot > 0)
        {
            details["group"] = groupResource[(dot + 1)..];
        }

        details["kind"] = dot > 0 ? groupResource[..dot] : groupResource;
        return details;
    }

    public static StatusException NotFound(string groupResource, string name) =>
        new(404, "NotFound", $"{groupResource} \"{name}\" not found", Qualified(groupResource, name));

    /// <summary>A 404 in someone else's words (a node agent's).</summary>
    public static StatusException NotFoundMessage(string message) => new(404, "NotFound", message);

    /// <summary>The generic 404 for a path nothing serves.</summary>
    public static StatusException NotFoundPath() =>
        new(404, "NotFound", "the server could not find the requested resource");

    public static StatusException AlreadyExists(string groupResource, string name, int? retryAfterSeconds = null) =>
        new(409, "AlreadyExists", $"{groupResource} \"{name}\" already exists", Qualified(groupResource, name), retryAfterSeconds);

    /// <summary>The optimistic-concurrency conflict of a stale resourceVersion.</summary>
    public static StatusException Conflict(string groupResource, string name) =>
        Conflict(groupResource, name, "the object has been modified; please apply your changes to the latest version and try again");

    public static StatusException Conflict(string groupResource, string name, string reason) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {groupResource} \"{name}\": {reason}", Qualified(groupResource, name));

    public static StatusException Invalid(string group, string kind, string name, IReadOnlyList<FieldError> errors)
    {
        var qualifiedKind = group.Length == 0 ? kind : $"{kind}.{group}";
        var causes = new JsonArray([.. errors.Select(e => (JsonNode)new JsonObject { ["reason"] = e.Reason, ["message"] = e.Body, ["field"] = e.Field })]);
        var list = errors.Count == 1 ? errors[0].ToString() : "[" + string.Join(", ", errors) + "]";
        var details = new JsonObject { ["name"] = name };
        if (group.Length > 0)
        {
            details["group"] = group;
        }

        details["kind"] = kind;
        details["causes"] = causes;
        return new StatusException(422, "Invalid", $"{qualifiedKind} \"{name}\" is invalid: {list}", details);
    }

    /// <summary>422 for a request that is well-formed but cannot be applied (a patch that does not apply).</summary>
    public static StatusException UnprocessableEntity(string message) => new(422, "Invalid", message);

    /// <summary>A server-side apply that conflicts with other field managers: 409 with one FieldManagerConflict cause per field.</summary>
    public static StatusException ApplyConflict(string message, IEnumerable<(string Field, string Message)> conflicts) =>
        new(409, "Conflict", message, new JsonObject
        {
            ["causes"] = new JsonArray([.. conflicts.Select(c => (JsonNode)new JsonObject { ["reason"] = "FieldManagerConflict", ["message"] = c.Message, ["field"] = c.Field })]),
        });

    public static StatusException BadRequest(string message) => new(400, "BadRequest", message);

    public static StatusException Unauthorized(string message = "Unauthorized") => new(401, "Unauthorized", message);

    public static StatusException Forbidden(string message) => new(403, "Forbidden", message);

    public static StatusException NamespaceTerminating(string groupResource, string name, string @namespace) =>
        new(403, "Forbidden", $"{groupResource} \"{name}\" is forbidden: unable to create new content in namespace {@namespace} because it is being terminated", Qualified(groupResource, name));

    public static StatusException MethodNotSupported(string groupResource, string action) =>
        new(405, "MethodNotAllowed", $"{action} is not supported on resources of kind \"{groupResource}\"", Qualified(groupResource, null));

    public static StatusException MethodNotAllowed(string message) => new(405, "MethodNotAllowed", message);

    public static StatusException NotAcceptable(string message) => new(406, "NotAcceptable", message);

    /// <summary>410 Expired: a resourceVersion or continue token older than the server remembers.</summary>
    public static StatusException Gone(string message) => new(410, "Expired", message);

    public static StatusException ResourceExpired(string message) => new(410, "Expired", message);

    public static StatusException RequestEntityTooLarge(string message) => new(413, "RequestEntityTooLarge", $"Request entity too large: {message}");

    public static StatusException UnsupportedMediaType(string message) => new(415, "UnsupportedMediaType", message);

    public static StatusException TooManyRequests(string message, int? retryAfterSeconds = null) => new(429, "TooManyRequests", message, null, retryAfterSeconds);

    /// <summary>429 with typed causes (an eviction refused by a disruption budget).</summary>
    public static StatusException TooManyRequests(string message, string causeType, string causeMessage) =>
        new(429, "TooManyRequests", message, new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = causeType, ["message"] = causeMessage }) });

    public static StatusException InternalError(string message) => new(500, "InternalError", $"Internal error occurred: {message}");

    public static StatusException ServiceUnavailable(string message) => new(503, "ServiceUnavailable", message);

    public static StatusException Timeout(string message, int? retryAfterSeconds = null) => new(504, "Timeout", message, null, retryAfterSeconds);
}

using System.Net;

namespace Lotse.ApiServer.Tests.Http;

public sealed class BatchValidationTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private const string CronJobs = "/apis/batch/v1/namespaces/default/cronjobs";

    private static string Body(string name, string schedule, string? timeZone = null) =>
        $$$"""{"metadata":{"name":"{{{name}}}"},"spec":{"schedule":"{{{schedule}}}"{{{(timeZone is null ? string.Empty : $",\"timeZone\":\"{timeZone}\"")}}},"jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}] } } } } } }""";

    [Theory]
    [InlineData("every-minute", "* * * * *", null)]
    [InlineData("named-days", "30 2 * * mon-fri", "Europe/Berlin")]
    [InlineData("descriptor", "@hourly", "UTC")]
    public async Task ValidSchedules_AreAccepted(string name, string schedule, string? timeZone)
    {
        using var client = server.Client();
        var response = await client.PostAsync(CronJobs, ApiServerFixture.Json(Body(name, schedule, timeZone)));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("* * *", null, "spec.schedule: Invalid value: \"* * *\": expected exactly 5 fields, found 3: [* * *]")]
    [InlineData("61 * * * *", null, "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61")]
    [InlineData("TZ=UTC * * * * *", null, "spec.schedule: Invalid value: \"TZ=UTC * * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead")]
    [InlineData("* * * * *", "Mars/Olympus", "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus")]
    [InlineData("* * * * *", "Local", "spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")]
    public async Task InvalidSchedules_Are422_AndNothingIsWritten(string schedule, string? timeZone, string expected)
    {
        using var client = server.Client();
        var response = await client.PostAsync(CronJobs, ApiServerFixture.Json(Body("bad", schedule, timeZone)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(expected, (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{CronJobs}/bad")).StatusCode);
    }

    [Theory]
    [InlineData("""{"podFailurePolicy":{"rules":[{"action":"FailJob","onExitCodes":{"operator":"In","values":[42]}}]},"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}""",
        "spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is specified")]
    [InlineData("""{"podFailurePolicy":{"rules":[{"action":"Explode"}]},"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}""",
        "spec.podFailurePolicy.rules[0].action: Unsupported value: \"Explode\"")]
    [InlineData("""{"backoffLimitPerIndex":1,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}""",
        "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode")]
    public async Task InvalidFailureLimits_Are422(string spec, string expected)
    {
        using var client = server.Client();
        var response = await client.PostAsync("/apis/batch/v1/namespaces/default/jobs", ApiServerFixture.Json($$"""{"metadata":{"name":"limits"},"spec":{{spec}} }"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(expected, (await ApiServerFixture.ReadAsync(response))["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Tests.Errors;

public sealed class StatusExceptionTests
{
    [Fact]
    public void NotFound_GroupedResource_QualifiesNameAndDetails()
    {
        var json = StatusException.NotFound("deployments.apps", "web").ToJson();
        Assert.Equal("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \"web\" not found","reason":"NotFound","details":{"name":"web","group":"apps","kind":"deployments"},"code":404}""", json.ToJsonString(JsonDefaults.Options));
    }

    [Fact]
    public void Invalid_SeveralCauses_ListsThemLikeKubernetes()
    {
        var ex = StatusException.Invalid("", "Pod", "p",
        [
            FieldError.Required(FieldPath.Root("spec").Child("containers").Index(0).Child("image")),
            FieldError.NotSupported(FieldPath.Root("spec").Child("restartPolicy"), "Sometimes", ["Always", "OnFailure", "Never"]),
        ]);
        Assert.Equal(422, ex.Code);
        Assert.Equal("Pod \"p\" is invalid: [spec.containers[0].image: Required value, spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"]", ex.Message);
        var causes = ex.ToJson()["details"]!["causes"]!.AsArray();
        Assert.Equal("FieldValueRequired", causes[0]!["reason"]!.GetValue<string>());
        Assert.Equal("spec.restartPolicy", causes[1]!["field"]!.GetValue<string>());
    }

    [Fact]
    public void Conflict_UsesTheOptimisticConcurrencyWording() =>
        Assert.Equal(
            "Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again",
            StatusException.Conflict("configmaps", "x").Message);

    [Fact]
    public void RetryAfter_GoesIntoDetails() =>
        Assert.Equal(1, StatusException.AlreadyExists("configmaps", "x", retryAfterSeconds: 1).ToJson()["details"]!["retryAfterSeconds"]!.GetValue<int>());
}

using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Selectors;
using Lotse.Client.Cron;
using static Lotse.ApiServer.Strategies.JsonEdit;

namespace Lotse.ApiServer.Strategies;

/// <summary>
/// Controllers of pods (Deployment, ReplicaSet, StatefulSet, DaemonSet, ReplicationController, Job,
/// CronJob): generation tracking, kubernetes' defaults, the pod template's rules, and the selector
/// that must match the template and may not change.
/// </summary>
internal sealed class WorkloadStrategy(string kind) : ResourceStrategy
{
    public override bool TracksGeneration => true;

    private string TemplatePath => kind == "CronJob" ? "spec.jobTemplate.spec.template" : "spec.template";

    private static JsonObject? At(JsonObject obj, string path)
    {
        JsonNode? node = obj;
        foreach (var part in path.Split('.'))
        {
            node = (node as JsonObject)?[part];
        }

        return node as JsonObject;
    }

    public override void PrepareForCreate(JsonObject obj) => obj["status"] = new JsonObject();

    public override void ApplyDefaults(JsonObject obj)
    {
        var spec = Obj(obj, "spec");
        switch (kind)
        {
            case "Deployment":
                Default(spec, "replicas", 1);
                Default(spec, "revisionHistoryLimit", 10);
                Default(spec, "progressDeadlineSeconds", 600);
                var strategy = Obj(spec, "strategy");
                Default(strategy, "type", "RollingUpdate");
                if (Str(strategy, "type") == "RollingUpdate")
                {
                    var rolling = Obj(strategy, "rollingUpdate");
                    Default(rolling, "maxUnavailable", "25%");
                    Default(rolling, "maxSurge", "25%");
                }

                break;
            case "ReplicaSet" or "ReplicationController":
                Default(spec, "replicas", 1);
                break;
            case "StatefulSet":
                Default(spec, "replicas", 1);
                Default(spec, "revisionHistoryLimit", 10);
                Default(spec, "podManagementPolicy", "OrderedReady");
                var update = Obj(spec, "updateStrategy");
                Default(update, "type", "RollingUpdate");
                if (Str(update, "type") == "RollingUpdate")
                {
                    Default(Obj(update, "rollingUpdate"), "partition", 0);
                }

                var retention = Obj(spec, "persistentVolumeClaimRetentionPolicy");
                Default(retention, "whenDeleted", "Retain");
                Default(retention, "whenScaled", "Retain");
                break;
            case "DaemonSet":
                Default(spec, "revisionHistoryLimit", 10);
                var dsUpdate = Obj(spec, "updateStrategy");
                Default(dsUpdate, "type", "RollingUpdate");
                if (Str(dsUpdate, "type") == "RollingUpdate")
                {
                    var rolling = Obj(dsUpdate, "rollingUpdate");
                    Default(rolling, "maxUnavailable", 1);
                    Default(rolling, "maxSurge", 0);
                }

                break;
            case "Job":
                Default(spec, "backoffLimit", 6);
                Default(spec, "completionMode", "NonIndexed");
                Default(spec, "suspend", false);
                Default(spec, "parallelism", 1);
                Default(spec, "completions", 1);
                Default(spec, "manualSelector", false);
                Default(spec, "podReplacementPolicy", "TerminatingOrFailed");
                DefaultJobSelector(obj, spec);
                break;
            case "CronJob":
                Default(spec, "concurrencyPolicy", "Allow");
                Default(spec, "suspend", false);
                Default(spec, "successfulJobsHistoryLimit", 3);
                Default(spec, "failedJobsHistoryLimit", 1);
                break;
        }

        if (kind == "ReplicationController" && spec["selector"] is null && At(obj, "spec.template.metadata.labels") is { } templateLabels)
        {
            spec["selector"] = templateLabels.DeepClone();
        }

        if (At(obj, TemplatePath + ".spec") is { } podSpec)
        {
            PodSpecRules.ApplyDefaults(podSpec);
        }
    }

    /// <summary>kubernetes labels a Job's pods with its uid and name and selects on the uid.</summary>
    private static void DefaultJobSelector(JsonObject job, JsonObject spec)
    {
        var uid = job["metadata"]?["uid"]?.ToString();
        var name = job["metadata"]?["name"]?.ToString();
        if (spec["selector"] is not null || uid is null || spec["manualSelector"].AsBoolean() == true)
        {
            return;
        }

        spec["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["batch.kubernetes.io/controller-uid"] = uid } };
        var template = Obj(spec, "template");
        var metadata = Obj(template, "metadata");
        var labels = Obj(metadata, "labels");
        labels["batch.kubernetes.io/controller-uid"] = uid;
        labels["batch.kubernetes.io/job-name"] = name;
        labels["controller-uid"] = uid;
        labels["job-name"] = name;
    }

    public override void Validate(JsonObject obj, List<FieldError> errors)
    {
        var spec = obj["spec"] as JsonObject;
        var specPath = FieldPath.Root("spec");
        if (kind == "CronJob")
        {
            ValidateSchedule(spec, specPath, errors);
        }

        if (spec?["replicas"].AsInt64() is { } count && count < 0)
        {
            errors.Add(FieldError.Invalid(specPath.Child("replicas"), spec["replicas"], "must be greater than or equal to 0"));
        }

        var template = At(obj, TemplatePath);
        var templatePath = kind == "CronJob" ? specPath.Child("jobTemplate").Child("spec").Child("template") : specPath.Child("template");
        if (template is null)
        {
            errors.Add(FieldError.Required(templatePath, string.Empty));
            return;
        }

        PodSpecRules.Validate(template["spec"] as JsonObject, templatePath.Child("spec"), errors, template: false);
        var restart = Str(template["spec"] as JsonObject, "restartPolicy");
        if (kind is "Job" or "CronJob")
        {
            if (restart is not (null or "OnFailure" or "Never"))
            {
                errors.Add(FieldError.NotSupported(templatePath.Child("spec").Child("restartPolicy"), restart, ["OnFailure", "Never"]));
            }

            var jobSpec = kind == "Job" ? spec : At(obj, "spec.jobTemplate.spec");
            ValidateFailureLimits(jobSpec, kind == "Job" ? specPath : specPath.Child("jobTemplate").Child("spec"), restart, errors);
        }
        else if (restart is not (null or "Always"))
        {
            errors.Add(FieldError.NotSupported(templatePath.Child("spec").Child("restartPolicy"), restart, ["Always"]));
        }

        if (kind is "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet")
        {
            if (spec?["selector"] is not JsonObject selector || selector.Count == 0)
            {
                errors.Add(FieldError.Required(specPath.Child("selector"), string.Empty));
                return;
            }

            var labels = (template["metadata"]?["labels"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? string.Empty) ?? [];
            if (!LabelSelector.FromLabelSelectorJson(selector).Matches(labels))
            {
                errors.Add(FieldError.Invalid(templatePath.Child("metadata").Child("labels"), new JsonObject(labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))), "`selector` does not match template `labels`"));
            }
        }
    }

    /// <summary>kube's validatePodFailurePolicy and the per-index back-off rules of a Job spec.</summary>
    private static void ValidateFailureLimits(JsonObject? spec, FieldPath path, string? restart, List<FieldError> errors)
    {
        var perIndex = spec?["backoffLimitPerIndex"];
        if (perIndex is not null && Str(spec, "completionMode") != "Indexed")
        {
            errors.Add(FieldError.Invalid(path.Child("backoffLimitPerIndex"), perIndex, "requires indexed completion mode"));
        }

        if (spec?["maxFailedIndexes"] is not null && perIndex is null)
        {
            errors.Add(FieldError.Required(path.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
        }

        if (spec?["podFailurePolicy"] is not JsonObject policy)
        {
            return;
        }

        if (restart != "Never")
        {
            errors.Add(FieldError.Invalid(path.Child("template").Child("spec").Child("restartPolicy"), restart ?? string.Empty, "only \"Never\" is supported when podFailurePolicy is specified"));
        }

        var rules = (policy["rules"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        for (var i = 0; i < rules.Count; i++)
        {
            var actionPath = path.Child("podFailurePolicy").Child("rules").Index(i).Child("action");
            var action = Str(rules[i], "action");
            if (action is not ("FailJob" or "FailIndex" or "Ignore" or "Count"))
            {
                errors.Add(FieldError.NotSupported(actionPath, action ?? string.Empty, ["Count", "FailIndex", "FailJob", "Ignore"]));
            }
            else if (action == "FailIndex" && perIndex is null)
            {
                errors.Add(FieldError.Invalid(actionPath, action, "requires the backoffLimitPerIndex to be set"));
            }
        }
    }

    /// <summary>A CronJob's schedule parses as cron does, without a TZ prefix; its time zone is one the system knows (kube's validateScheduleFormat and validateTimeZone).</summary>
    private static void ValidateSchedule(JsonObject? spec, FieldPath specPath, List<FieldError> errors)
    {
        var schedule = Str(spec, "schedule");
        if (string.IsNullOrWhiteSpace(schedule))
        {
            errors.Add(FieldError.Required(specPath.Child("schedule"), string.Empty));
        }
        else if (schedule.Contains("TZ=", StringComparison.Ordinal))
        {
            errors.Add(FieldError.Invalid(specPath.Child("schedule"), schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
        }
        else if (!CronSchedule.TryParse(schedule, out _, out var error))
        {
            errors.Add(FieldError.Invalid(specPath.Child("schedule"), schedule, error));
        }

        if (spec?["timeZone"] is { } node && node.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            var zone = node.GetValue<string>();
            var path = specPath.Child("timeZone");
            if (zone.Length == 0)
            {
                errors.Add(FieldError.Invalid(path, zone, "timeZone must be nil or non-empty string"));
            }
            else if (zone.Equals("Local", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(FieldError.Invalid(path, zone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
            }
            else if (!TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
            {
                errors.Add(FieldError.Invalid(path, zone, $"unknown time zone {zone}"));
            }
        }
    }

    public override void ValidateUpdate(JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(obj, errors);
        if (kind is "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet" or "Job"
            && !JsonNode.DeepEquals(obj["spec"]?["selector"], old["spec"]?["selector"]))
        {
            errors.Add(FieldError.Invalid(FieldPath.Root("spec").Child("selector"), obj["spec"]?["selector"], "field is immutable"));
        }
    }
}

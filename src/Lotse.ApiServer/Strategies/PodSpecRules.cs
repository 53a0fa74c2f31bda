using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Validation;
using static Lotse.ApiServer.Strategies.JsonEdit;

namespace Lotse.ApiServer.Strategies;

/// <summary>Pod spec defaults and validation (kubernetes' SetDefaults_PodSpec/Container and ValidatePodSpec), shared by pods and pod templates.</summary>
internal static class PodSpecRules
{
    private static readonly string[] RestartPolicies = ["Always", "OnFailure", "Never"];
    private static readonly string[] DnsPolicies = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
    private static readonly string[] PullPolicies = ["Always", "IfNotPresent", "Never"];
    private static readonly string[] Protocols = ["TCP", "UDP", "SCTP"];

    public static void ApplyDefaults(JsonObject spec)
    {
        Default(spec, "restartPolicy", "Always");
        Default(spec, "dnsPolicy", "ClusterFirst");
        Default(spec, "schedulerName", "default-scheduler");
        Default(spec, "terminationGracePeriodSeconds", 30);
        Default(spec, "securityContext", new JsonObject());
        Default(spec, "enableServiceLinks", true);
        if (Str(spec, "serviceAccountName") is null && Str(spec, "serviceAccount") is { } legacy)
        {
            spec["serviceAccountName"] = legacy;
        }

        foreach (var list in (string[])["initContainers", "containers"])
        {
            foreach (var container in Items(spec, list))
            {
                Default(container, "terminationMessagePath", "/dev/termination-log");
                Default(container, "terminationMessagePolicy", "File");
                Default(container, "resources", new JsonObject());
                if (Str(container, "imagePullPolicy") is null)
                {
                    var image = Str(container, "image") ?? string.Empty;
                    var lastSegment = image[(image.LastIndexOf('/') + 1)..];
                    var tagged = lastSegment.Contains(':', StringComparison.Ordinal) && !lastSegment.EndsWith(":latest", StringComparison.Ordinal);
                    container["imagePullPolicy"] = image.Contains('@', StringComparison.Ordinal) || tagged ? "IfNotPresent" : "Always";
                }

                foreach (var port in Items(container, "ports"))
                {
                    Default(port, "protocol", "TCP");
                }

                foreach (var kind in (string[])["livenessProbe", "readinessProbe", "startupProbe"])
                {
                    if (container[kind] is JsonObject probe)
                    {
                        Default(probe, "timeoutSeconds", 1);
                        Default(probe, "periodSeconds", 10);
                        Default(probe, "successThreshold", 1);
                        Default(probe, "failureThreshold", 3);
                        if (probe["httpGet"] is JsonObject http)
                        {
                            Default(http, "path", "/");
                            Default(http, "scheme", "HTTP");
                        }
                    }
                }
            }
        }
    }

    public static void Validate(JsonObject? spec, FieldPath path, List<FieldError> errors, bool template)
    {
        if (spec is null)
        {
            errors.Add(FieldError.Required(path, string.Empty));
            return;
        }

        var containers = Items(spec, "containers").ToList();
        if (containers.Count == 0)
        {
            errors.Add(FieldError.Required(path.Child("containers"), string.Empty));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (list, items) in new[] { ("initContainers", Items(spec, "initContainers").ToList()), ("containers", containers) })
        {
            for (var i = 0; i < items.Count; i++)
            {
                var c = items[i];
                var p = path.Child(list).Index(i);
                var name = Str(c, "name");
                if (string.IsNullOrEmpty(name))
                {
                    errors.Add(FieldError.Required(p.Child("name"), string.Empty));
                }
                else
                {
                    errors.AddRange(Names.IsDns1123Label(name).Select(m => FieldError.Invalid(p.Child("name"), name, m)));
                    if (!names.Add(name))
                    {
                        errors.Add(FieldError.Duplicate(p.Child("name"), name));
                    }
                }

                if (string.IsNullOrWhiteSpace(Str(c, "image")) && !template)
                {
                    errors.Add(FieldError.Required(p.Child("image"), string.Empty));
                }

                if (Str(c, "imagePullPolicy") is { } pull && !PullPolicies.Contains(pull))
                {
                    errors.Add(FieldError.NotSupported(p.Child("imagePullPolicy"), pull, PullPolicies));
                }

                var ports = Items(c, "ports").ToList();
                for (var j = 0; j < ports.Count; j++)
                {
                    var port = ports[j];
                    var pp = p.Child("ports").Index(j);
                    if (port["containerPort"].AsInt64() is not { } number || number < 1 || number > 65535)
                    {
                        errors.Add(port["containerPort"] is null
                            ? FieldError.Required(pp.Child("containerPort"), string.Empty)
                            : FieldError.Invalid(pp.Child("containerPort"), port["containerPort"], "must be between 1 and 65535, inclusive"));
                    }

                    if (Str(port, "protocol") is { } protocol && !Protocols.Contains(protocol))
                    {
                        errors.Add(FieldError.NotSupported(pp.Child("protocol"), protocol, Protocols));
                    }
                }
            }
        }

        if (Str(spec, "restartPolicy") is { } restart && !RestartPolicies.Contains(restart))
        {
            errors.Add(FieldError.NotSupported(path.Child("restartPolicy"), restart, RestartPolicies));
        }

        if (Str(spec, "dnsPolicy") is { } dns && !DnsPolicies.Contains(dns))
        {
            errors.Add(FieldError.NotSupported(path.Child("dnsPolicy"), dns, DnsPolicies));
        }

        var volumes = new HashSet<string>(StringComparer.Ordinal);
        var v = 0;
        foreach (var volume in Items(spec, "volumes"))
        {
            var name = Str(volume, "name");
            if (string.IsNullOrEmpty(name))
            {
                errors.Add(FieldError.Required(path.Child("volumes").Index(v).Child("name"), string.Empty));
            }
            else if (!volumes.Add(name))
            {
                errors.Add(FieldError.Duplicate(path.Child("volumes").Index(v).Child("name"), name));
            }

            v++;
        }

        foreach (var (list, items) in new[] { ("initContainers", Items(spec, "initContainers").ToList()), ("containers", containers) })
        {
            for (var i = 0; i < items.Count; i++)
            {
                var m = 0;
                foreach (var mount in Items(items[i], "volumeMounts"))
                {
                    var mountName = Str(mount, "name") ?? string.Empty;
                    if (!volumes.Contains(mountName))
                    {
                        errors.Add(FieldError.NotSupported(path.Child(list).Index(i).Child("volumeMounts").Index(m).Child("name"), mountName, volumes.Order(StringComparer.Ordinal)));
                    }

                    m++;
                }
            }
        }
    }

    /// <summary>kubernetes' QoS class from requests and limits.</summary>
    public static string QosClass(JsonObject? spec)
    {
        var containers = Items(spec, "containers").Concat(Items(spec, "initContainers")).ToList();
        var any = false;
        var guaranteed = containers.Count > 0;
        foreach (var c in containers)
        {
            var requests = c["resources"]?["requests"] as JsonObject;
            var limits = c["resources"]?["limits"] as JsonObject;
            any |= requests is { Count: > 0 } || limits is { Count: > 0 };
            foreach (var resource in (string[])["cpu", "memory"])
            {
                var limit = limits?[resource]?.ToString();
                var request = requests?[resource]?.ToString() ?? limit;
                if (limit is null || request != limit)
                {
                    guaranteed = false;
                }
            }
        }

        return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
    }
}

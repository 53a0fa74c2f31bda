using System.Net;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Validation;
using static Lotse.ApiServer.Strategies.JsonEdit;

namespace Lotse.ApiServer.Strategies;

/// <summary>Services: DNS-1035 names, defaults, port rules, and allocated values that updates keep.</summary>
internal sealed class ServiceStrategy : ResourceStrategy
{
    private static readonly string[] Types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
    private static readonly string[] Protocols = ["TCP", "UDP", "SCTP"];

    public override List<string> ValidateName(string name) => Names.IsDns1035Label(name);

    public override void PrepareForCreate(JsonObject obj) => obj["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };

    /// <summary>A client that leaves out the allocated cluster IP or node ports keeps the ones it had (kubernetes' PatchAllocatedValues).</summary>
    public override void PrepareForUpdate(JsonObject obj, JsonObject old)
    {
        if (obj["spec"] is not JsonObject spec || old["spec"] is not JsonObject oldSpec)
        {
            return;
        }

        if (string.IsNullOrEmpty(Str(spec, "clusterIP")) && Str(oldSpec, "clusterIP") is { } ip)
        {
            spec["clusterIP"] = ip;
            spec["clusterIPs"] = oldSpec["clusterIPs"]?.DeepClone();
        }

        var oldPorts = Items(oldSpec, "ports").ToList();
        foreach (var port in Items(spec, "ports"))
        {
            if (port["nodePort"] is null && oldPorts.FirstOrDefault(p => p["port"]?.ToString() == port["port"]?.ToString() && (Str(p, "protocol") ?? "TCP") == (Str(port, "protocol") ?? "TCP")) is { } match && match["nodePort"] is { } nodePort)
            {
                port["nodePort"] = nodePort.DeepClone();
            }
        }
    }

    public override void ApplyDefaults(JsonObject obj)
    {
        var spec = Obj(obj, "spec");
        Default(spec, "type", "ClusterIP");
        var type = Str(spec, "type");
        if (type == "ExternalName")
        {
            return;
        }

        Default(spec, "sessionAffinity", "None");
        Default(spec, "ipFamilies", new JsonArray("IPv4"));
        Default(spec, "ipFamilyPolicy", "SingleStack");
        Default(spec, "internalTrafficPolicy", "Cluster");
        if (type is "NodePort" or "LoadBalancer")
        {
            Default(spec, "externalTrafficPolicy", "Cluster");
        }

        foreach (var port in Items(spec, "ports"))
        {
            Default(port, "protocol", "TCP");
            Default(port, "targetPort", port["port"]?.DeepClone() ?? 0);
        }
    }

    public override void Validate(JsonObject obj, List<FieldError> errors)
    {
        var spec = obj["spec"] as JsonObject;
        var path = FieldPath.Root("spec");
        var type = Str(spec, "type") ?? "ClusterIP";
        if (!Types.Contains(type))
        {
            errors.Add(FieldError.NotSupported(path.Child("type"), type, Types));
            return;
        }

        var clusterIp = Str(spec, "clusterIP");
        if (!string.IsNullOrEmpty(clusterIp) && clusterIp != "None" && !IPAddress.TryParse(clusterIp, out _))
        {
            errors.Add(FieldError.Invalid(path.Child("clusterIPs").Index(0), clusterIp, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
        }

        var ports = Items(spec, "ports").ToList();
        if (type == "ExternalName")
        {
            if (string.IsNullOrEmpty(Str(spec, "externalName")))
            {
                errors.Add(FieldError.Required(path.Child("externalName"), string.Empty));
            }

            return;
        }

        if (ports.Count == 0 && clusterIp != "None")
        {
            errors.Add(FieldError.Required(path.Child("ports"), string.Empty));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < ports.Count; i++)
        {
            var port = ports[i];
            var p = path.Child("ports").Index(i);
            var name = Str(port, "name");
            if (ports.Count > 1 && string.IsNullOrEmpty(name))
            {
                errors.Add(FieldError.Required(p.Child("name"), string.Empty));
            }
            else if (!string.IsNullOrEmpty(name) && !names.Add(name))
            {
                errors.Add(FieldError.Duplicate(p.Child("name"), name));
            }

            if (port["port"].AsInt64() is not { } number || number < 1 || number > 65535)
            {
                errors.Add(port["port"] is null ? FieldError.Required(p.Child("port"), string.Empty) : FieldError.Invalid(p.Child("port"), port["port"], "must be between 1 and 65535, inclusive"));
            }

            if (Str(port, "protocol") is { } protocol && !Protocols.Contains(protocol))
            {
                errors.Add(FieldError.NotSupported(p.Child("protocol"), protocol, Protocols));
            }

            if (type == "ClusterIP" && port["nodePort"].AsInt64() is { } nodePort && nodePort != 0)
            {
                errors.Add(FieldError.Forbidden(p.Child("nodePort"), "may not be used when `type` is 'ClusterIP'"));
            }
        }
    }

    public override void ValidateUpdate(JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(obj, errors);
        var ip = Str(obj["spec"] as JsonObject, "clusterIP");
        var oldIp = Str(old["spec"] as JsonObject, "clusterIP");
        if (!string.IsNullOrEmpty(oldIp) && ip != oldIp && Str(obj["spec"] as JsonObject, "type") != "ExternalName")
        {
            errors.Add(FieldError.Invalid(FieldPath.Root("spec").Child("clusterIPs").Index(0), ip ?? string.Empty, "may not change once set"));
        }
    }
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Lotse.ApiServer.Protobuf;

namespace Lotse.Benchmarks.ApiMachinery;

/// <summary>
/// What a protobuf request body (kubectl ≥ 1.32's create generators, typed clients) costs the server:
/// decoding <c>k8s\0</c> + runtime.Unknown into the JSON nodes the handlers work on, beside the JSON
/// path for the same object in the same run — <c>JsonNode.Parse</c> as the body reader calls it (the
/// baseline; its nodes materialize lazily), and parse plus a walk of every node (what the JSON path has
/// paid once field validation has visited the whole object, as the protobuf decoder's output already is).
/// Run: <c>dotnet run -c Release --project bench/Lotse.Benchmarks -- --filter '*ProtobufDecode*'</c>.
/// </summary>
[MemoryDiagnoser]
public class ProtobufDecodeBenchmarks
{
    private byte[] _json = [];
    private byte[] _protobuf = [];

    [Params("ConfigMap", "Secret", "Deployment")]
    public string Kind { get; set; } = "ConfigMap";

    [GlobalSetup]
    public void Setup()
    {
        var json = (Kind switch
        {
            "ConfigMap" => ConfigMap,
            "Secret" => Secret,
            _ => Deployment,
        }).Replace("METADATA", Metadata, StringComparison.Ordinal);
        _json = Encoding.UTF8.GetBytes(JsonNode.Parse(json)!.ToJsonString());
        _protobuf = ProtobufBodies.Encode(JsonNode.Parse(json)!.AsObject());

        // The two bodies must say the same thing, or the comparison means nothing.
        var decoded = KubeProtobuf.Decode(_protobuf);
        if (!JsonNode.DeepEquals(decoded, JsonNode.Parse(_json)))
        {
            throw new InvalidOperationException($"the protobuf {Kind} decodes to\n{decoded.ToJsonString()}\nnot\n{Encoding.UTF8.GetString(_json)}");
        }

        Console.WriteLine($"// {Kind}: JSON {_json.Length} bytes, protobuf {_protobuf.Length} bytes");
    }

    [Benchmark(Baseline = true)]
    public JsonNode? JsonParse() => JsonNode.Parse(_json, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });

    [Benchmark]
    public int JsonParseAndWalk() => Walk(JsonNode.Parse(_json, documentOptions: new JsonDocumentOptions { MaxDepth = 256 }));

    [Benchmark]
    public JsonObject ProtobufDecode() => KubeProtobuf.Decode(_protobuf);

    private static int Walk(JsonNode? node) => node switch
    {
        JsonObject obj => obj.Sum(p => 1 + Walk(p.Value)),
        JsonArray array => array.Sum(i => 1 + Walk(i)),
        JsonValue value => value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>().Length : 1,
        _ => 0,
    };

    private const string Metadata = """
        "creationTimestamp":"2026-11-24T10:00:00Z",
        "labels":{"app.kubernetes.io/name":"web","app.kubernetes.io/part-of":"shop","app.kubernetes.io/managed-by":"kustomize","tier":"frontend"},
        "annotations":{"team.example.com/owner":"storefront","team.example.com/runbook":"https://runbooks.example.com/storefront/web"}
        """;

    private const string ConfigMap = """
        {"apiVersion":"v1","kind":"ConfigMap",
         "metadata":{"name":"web-config","namespace":"shop",METADATA},
         "data":{
          "LOG_LEVEL":"info","CACHE_TTL":"300","FEATURE_FLAGS":"checkout-v2,search-suggest,recommendations",
          "nginx.conf":"worker_processes auto;\nevents { worker_connections 1024; }\nhttp {\n  include /etc/nginx/mime.types;\n  sendfile on;\n  keepalive_timeout 65;\n  gzip on;\n  gzip_types text/plain text/css application/json application/javascript;\n  upstream api { server api.shop.svc.cluster.local:8080; keepalive 32; }\n  server {\n    listen 8080;\n    location /healthz { return 200 'ok'; }\n    location /api/ { proxy_pass http://api; proxy_set_header Host $host; proxy_http_version 1.1; }\n    location / { root /usr/share/nginx/html; try_files $uri /index.html; }\n  }\n}\n",
          "application.yaml":"server:\n  port: 8080\nspring:\n  datasource:\n    url: jdbc:postgresql://db.shop.svc:5432/shop\n    hikari:\n      maximum-pool-size: 20\nmanagement:\n  endpoints:\n    web:\n      exposure:\n        include: health,info,prometheus\n"
         }}
        """;

    private const string Secret = """
        {"apiVersion":"v1","kind":"Secret",
         "metadata":{"name":"web-tls","namespace":"shop",METADATA},
         "type":"kubernetes.io/tls",
         "data":{
          "tls.crt":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURCVENDQWUyZ0F3SUJBZ0lVSlpQbVdnV2Z0c3Z5a3JGUzJtVm1oR2xBdUQ0d0RRWUpLb1pJaHZjTkFRRUwKQlFBd0VqRVFNQTRHQTFVRUF3d0hkMlZpTG5Ob2IzQXdIaGNOTWpZeE1USTBNVEF3TURBd1doY05NamN4TVRJMApNVEF3TURBd1dqQVNNUkF3RGdZRFZRUUREQWQzWldJdWMyaHZjRENDQVNJd0RRWUpLb1pJaHZjTkFRRUJCUUFECmdnRVBBRENDQVFvQ2dnRUJBTHY3Z0N5cTBkR2hzT2QxZ2JXYjFqNXZ3a3h5R2I4QmRQb2h4bWZ6c0Q4M1M0QjgKa1h0NmRTVjhDQm5mb1hRS0FkRXZ6RmVHc1pWcG1PdVJkb01hVUhTUXdVRE9qTGQ0dnhQTnFvUGd6T3BZTjFvTApLUHRaNU9qS2hFd2QxdGh0Y0xYS2hMN1JxN2ZWcEdFTzdoTk5mZkQzd05vSnlTcUtMeDhBK0Z4RFJGbGhNTEM2CmE5eW5MOHpFVU5mR0ZzNnEwd0tJUWZiMXhiSUVGcmJ6SmZ0N2xTTmpkS0JQYTJjVTNCQ1BjQmVCYUZwVmZ6SnMKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=",
          "tls.key":"LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2UUlCQURBTkJna3Foa2lHOXcwQkFRRUZBQVNDQktjd2dnU2pBZ0VBQW9JQkFRQzcrNEFzcXRIUm9iRG4KZFlHMW05WStiOEpNY2htL0FYVDZJY1puODdBL04wdUFmSkY3ZW5VbGZBZ1ozNkYwQ2dIUkw4eFhockdWYVpqcgprWGFER2xCMGtNRkF6b3kzZUw4VHphcUQ0TXpxV0RkYUN5ajdXZVRveW9STUhkYlliWEMxeW9TKzBhdTMxYVJoCkR1NFRUWDN3OThEYUNja3FpaThmQVBoY1EwUlpZVEN3dW12V3B5L014RkRYeGhiT3F0TUNpRUgyOWNXeUJCYTIKOHlYN2U1VWpZM1NnVDJ0bkZOd1FqM0FYZ1doYVZYOHliQT09Ci0tLS0tRU5EIFBSSVZBVEUgS0VZLS0tLS0K",
          "ca.crt":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lSQU1PcGxGWnp4c0gzCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
         }}
        """;

    private const string Deployment = """
        {"apiVersion":"apps/v1","kind":"Deployment",
         "metadata":{"name":"web","namespace":"shop",METADATA},
         "spec":{
          "replicas":3,"revisionHistoryLimit":10,"progressDeadlineSeconds":600,
          "selector":{"matchLabels":{"app.kubernetes.io/name":"web","tier":"frontend"}},
          "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":1}},
          "template":{
           "metadata":{"labels":{"app.kubernetes.io/name":"web","tier":"frontend"},"annotations":{"prometheus.io/scrape":"true","prometheus.io/port":"9090"}},
           "spec":{
            "serviceAccountName":"web","terminationGracePeriodSeconds":30,"restartPolicy":"Always","dnsPolicy":"ClusterFirst",
            "nodeSelector":{"kubernetes.io/os":"linux"},
            "containers":[
             {"name":"web","image":"registry.example.com/shop/web:1.27.3","imagePullPolicy":"IfNotPresent",
              "args":["--config=/etc/web/application.yaml","--port=8080"],
              "ports":[{"name":"http","containerPort":8080,"protocol":"TCP"},{"name":"metrics","containerPort":9090,"protocol":"TCP"}],
              "env":[{"name":"LOG_LEVEL","value":"info"},{"name":"CACHE_TTL","value":"300"},{"name":"REGION","value":"eu-central-1"},{"name":"JAVA_OPTS","value":"-XX:MaxRAMPercentage=75"}],
              "resources":{"requests":{"cpu":"250m","memory":"256Mi"},"limits":{"cpu":"1","memory":"512Mi"}},
              "readinessProbe":{"httpGet":{"path":"/healthz","port":"http","scheme":"HTTP"},"initialDelaySeconds":5,"periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3},
              "livenessProbe":{"httpGet":{"path":"/healthz","port":8080,"scheme":"HTTP"},"initialDelaySeconds":15,"periodSeconds":20,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3},
              "volumeMounts":[{"name":"config","mountPath":"/etc/web","readOnly":true},{"name":"tls","mountPath":"/etc/tls","readOnly":true}],
              "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"},
             {"name":"log-shipper","image":"registry.example.com/infra/fluent-bit:3.1","imagePullPolicy":"IfNotPresent",
              "resources":{"requests":{"cpu":"50m","memory":"64Mi"},"limits":{"memory":"128Mi"}},
              "volumeMounts":[{"name":"config","mountPath":"/fluent-bit/etc","readOnly":true}],
              "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}
            ],
            "volumes":[{"name":"config","configMap":{"name":"web-config","defaultMode":420}},{"name":"tls","secret":{"secretName":"web-tls","defaultMode":256}}]
           }}
         }}
        """;
}

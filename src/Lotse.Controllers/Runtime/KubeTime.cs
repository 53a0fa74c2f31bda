using System.Globalization;

namespace Lotse.Controllers.Runtime;

/// <summary>Kubernetes' metav1.Time on the wire: RFC 3339 in UTC, whole seconds.</summary>
public static class KubeTime
{
    public static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    public static string Format(DateTime time) => Format(new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)));
}

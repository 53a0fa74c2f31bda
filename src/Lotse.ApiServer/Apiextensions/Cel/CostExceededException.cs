namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>A rule spent more than its budget (cel-go's "operation cancelled: actual cost limit exceeded").</summary>
public sealed class CostExceededException : Exception
{
    public CostExceededException()
        : base("operation cancelled: actual cost limit exceeded")
    {
    }

    public CostExceededException(string message)
        : base(message)
    {
    }

    public CostExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

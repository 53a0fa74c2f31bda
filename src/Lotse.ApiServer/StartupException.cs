namespace Lotse.ApiServer;

/// <summary>A start-up problem the user must fix; the message is one line.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);

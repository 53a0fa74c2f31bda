namespace Lotse.Configuration;

/// <summary>A configuration mistake the user must fix; the message is one line naming the file and key.</summary>
internal sealed class ConfigException(string message, Exception? inner = null) : Exception(message, inner);

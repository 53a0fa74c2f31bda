using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Authentication;

/// <summary>
/// kube-apiserver's <c>--token-auth-file</c>: CSV lines <c>token,user,uid[,"group1,group2"]</c>.
/// A malformed file is a start-up error naming the line.
/// </summary>
public static class StaticTokenFile
{
    public static Dictionary<string, UserInfo> Load(string path)
    {
        var tokens = new Dictionary<string, UserInfo>(StringComparer.Ordinal);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"cannot read --token-auth-file {path}: {ex.Message}");
        }

        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = SplitCsv(line);
            if (fields.Count < 3 || fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw new StartupException($"--token-auth-file {path} line {i + 1}: expected token,user,uid[,\"groups\"]");
            }

            var groups = fields.Count > 3 ? fields[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
            tokens[fields[0]] = new UserInfo(fields[1], [.. groups, UserInfo.Authenticated], fields[2]);
        }

        return tokens;
    }

    private static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                fields.Add(current.ToString().Trim());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        fields.Add(current.ToString().Trim());
        return fields;
    }
}

using Antlr4.Runtime;
using Cel.Internal;

namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// Parses a CEL expression with the Cel package's grammar (cel-spec's Cel.g4), collecting lexer and
/// parser errors the way cel-go reports them: <c>ERROR: &lt;input&gt;:1:16: Syntax error: …</c>
/// followed by the source line and a caret under the column.
/// </summary>
public static class RuleParser
{
    public static CelParser.StartContext? Parse(string source, List<string> issues)
    {
        var listener = new Listener(source, issues);
        var lexer = new CelLexer(new AntlrInputStream(source));
        lexer.RemoveErrorListeners();
        lexer.AddErrorListener(listener);
        var parser = new CelParser(new CommonTokenStream(lexer));
        parser.RemoveErrorListeners();
        parser.AddErrorListener(listener);
        var start = parser.start();
        return issues.Count == 0 ? start : null;
    }

    /// <summary>cel-go's issue text: the message, then the offending line and a caret under the (1-based) column.</summary>
    public static string Issue(string source, int line, int column, string message)
    {
        var lines = source.Split('\n');
        var text = line >= 1 && line <= lines.Length ? lines[line - 1].TrimEnd('\r') : string.Empty;
        return $"ERROR: <input>:{line}:{column}: {message}\n | {text}\n | {new string('.', Math.Max(0, column - 1))}^";
    }

    public static string Issue(string source, IToken token, string message) => Issue(source, token.Line, token.Column + 1, message);

    private sealed class Listener(string source, List<string> issues) : IAntlrErrorListener<int>, IAntlrErrorListener<IToken>
    {
        public void SyntaxError(TextWriter output, IRecognizer recognizer, int offendingSymbol, int line, int charPositionInLine, string msg, RecognitionException e) =>
            issues.Add(Issue(source, line, charPositionInLine + 1, "Syntax error: " + msg));

        public void SyntaxError(TextWriter output, IRecognizer recognizer, IToken offendingSymbol, int line, int charPositionInLine, string msg, RecognitionException e) =>
            issues.Add(Issue(source, line, charPositionInLine + 1, "Syntax error: " + msg));
    }
}

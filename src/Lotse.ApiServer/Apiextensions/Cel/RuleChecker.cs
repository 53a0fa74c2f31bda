using Antlr4.Runtime;
using Cel.Internal;

namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// The type check a rule gets when its CRD is written (cel-go's checker, for what CRD rules use):
/// undeclared references and functions, fields an object's schema does not declare, operators and
/// functions applied to types they have no overload for, comprehension ranges that are not lists or
/// maps, mixed-type list literals. Values whose type the schema leaves open (int-or-string,
/// preserve-unknown-fields) are <c>dyn</c> and pass, as in kube. Issues are worded and placed like
/// cel-go's. It also notes whether the rule reads <c>oldSelf</c> and estimates its worst-case cost:
/// every expression node counts once per iteration of the comprehensions around it, a
/// comprehension iterating as often as its range can be long (maxItems, maxProperties, or what
/// the largest request could hold).
/// </summary>
public sealed class RuleChecker(string source, RuleType self, RuleType? oldSelf)
{
    private static readonly HashSet<string> TypeNames = new(StringComparer.Ordinal)
    {
        "int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type", "dyn",
    };

    private static readonly HashSet<string> StringReceivers = new(StringComparer.Ordinal)
    {
        "startsWith", "endsWith", "contains", "matches", "charAt", "lowerAscii", "upperAscii", "replace", "split", "substring", "trim", "find", "findAll",
    };

    private static readonly HashSet<string> ListReceivers = new(StringComparer.Ordinal) { "isSorted", "sum", "min", "max", "join" };

    private static readonly HashSet<string> OptionalReceivers = new(StringComparer.Ordinal) { "hasValue", "value", "orValue" };

    private static readonly HashSet<string> Macros = new(StringComparer.Ordinal) { "all", "exists", "exists_one", "map", "filter" };

    private readonly List<string> _issues = [];
    private double _multiplier = 1;

    public IReadOnlyList<string> Issues => _issues;

    public bool UsesOldSelf { get; private set; }

    /// <summary>The estimated worst-case number of evaluation steps.</summary>
    public double EstimatedCost { get; private set; }

    public RuleType Check(CelParser.StartContext start) => Expr(start.e, new Dictionary<string, RuleType>(StringComparer.Ordinal));

    private RuleType Expr(CelParser.ExprContext c, Dictionary<string, RuleType> scope)
    {
        if (c.op is null)
        {
            return Or(c.e, scope);
        }

        Count();
        var condition = Or(c.e, scope);
        if (!Is(condition, RuleKind.Bool))
        {
            Error(c.op, $"found no matching overload for '_?_:_' applied to '({condition}, ...)'");
        }

        var whenTrue = Or(c.e1, scope);
        var whenFalse = Expr(c.e2, scope);
        return whenTrue.Kind == whenFalse.Kind && whenTrue.Kind is not (RuleKind.List or RuleKind.Map or RuleKind.Object) ? whenTrue : RuleType.Dyn;
    }

    private RuleType Or(CelParser.ConditionalOrContext c, Dictionary<string, RuleType> scope)
    {
        var first = And(c.e, scope);
        if (c._e1.Count == 0)
        {
            return first;
        }

        return Logical(first, [.. c._e1.Select(e => And(e, scope))], c._ops, "_||_");
    }

    private RuleType And(CelParser.ConditionalAndContext c, Dictionary<string, RuleType> scope)
    {
        var first = Relation(c.e, scope);
        if (c._e1.Count == 0)
        {
            return first;
        }

        return Logical(first, [.. c._e1.Select(e => Relation(e, scope))], c._ops, "_&&_");
    }

    private RuleType Logical(RuleType first, List<RuleType> rest, IList<IToken> ops, string name)
    {
        var left = first;
        for (var i = 0; i < rest.Count; i++)
        {
            if (!Is(left, RuleKind.Bool) || !Is(rest[i], RuleKind.Bool))
            {
                Error(ops[i], $"found no matching overload for '{name}' applied to '({left}, {rest[i]})'");
            }

            left = RuleType.Bool;
        }

        return RuleType.Bool;
    }

    private RuleType Relation(CelParser.RelationContext c, Dictionary<string, RuleType> scope)
    {
        if (c.op is null)
        {
            return Calc(c.calc(), scope);
        }

        Count();
        var left = Relation(c.relation(0), scope);
        var right = Relation(c.relation(1), scope);
        var op = c.op.Text;
        if (op == "in")
        {
            var ok = right.Kind switch
            {
                RuleKind.Dyn => true,
                RuleKind.List => Comparable(left, right.Elem!),
                RuleKind.Map => Is(left, RuleKind.String),
                _ => false,
            };
            if (!ok)
            {
                Error(c.op, $"found no matching overload for '@in' applied to '({left}, {right})'");
            }

            return RuleType.Bool;
        }

        var name = op switch { "==" => "_==_", "!=" => "_!=_", "<" => "_<_", "<=" => "_<=_", ">" => "_>_", _ => "_>=_" };
        var valid = op is "==" or "!="
            ? Comparable(left, right)
            : left.IsDyn || right.IsDyn || (Orderable(left) && Orderable(right) && (left.Kind == right.Kind || (Numeric(left) && Numeric(right))));
        if (!valid)
        {
            Error(c.op, $"found no matching overload for '{name}' applied to '({left}, {right})'");
        }

        return RuleType.Bool;
    }

    private RuleType Calc(CelParser.CalcContext c, Dictionary<string, RuleType> scope)
    {
        if (c.op is null)
        {
            return Unary(c.unary(), scope);
        }

        Count();
        var left = Calc(c.calc(0), scope);
        var right = Calc(c.calc(1), scope);
        var op = c.op.Text;
        if (left.IsDyn || right.IsDyn)
        {
            return left.IsDyn ? (right.Kind is RuleKind.Int or RuleKind.Double or RuleKind.String ? right : RuleType.Dyn) : left;
        }

        var same = left.Kind == right.Kind;
        var result = op switch
        {
            "+" when same && left.Kind is RuleKind.Int or RuleKind.Double or RuleKind.String or RuleKind.Bytes => left,
            "+" when same && left.Kind == RuleKind.List => left.Elem!.Kind == right.Elem!.Kind ? left : RuleType.ListOf(RuleType.Dyn),
            "-" or "*" or "/" when same && left.Kind is RuleKind.Int or RuleKind.Double => left,
            "%" when same && left.Kind == RuleKind.Int => left,
            _ => null,
        };
        if (result is null)
        {
            var name = op switch { "+" => "_+_", "-" => "_-_", "*" => "_*_", "/" => "_/_", _ => "_%_" };
            Error(c.op, $"found no matching overload for '{name}' applied to '({left}, {right})'");
            return RuleType.Dyn;
        }

        return result;
    }

    private RuleType Unary(CelParser.UnaryContext c, Dictionary<string, RuleType> scope)
    {
        switch (c)
        {
            case CelParser.LogicalNotContext not:
                Count();
                var operand = Member(not.member(), scope);
                if (!Is(operand, RuleKind.Bool))
                {
                    Error(not._ops[0], $"found no matching overload for '!_' applied to '({operand})'");
                }

                return RuleType.Bool;
            case CelParser.NegateContext negate:
                Count();
                var number = Member(negate.member(), scope);
                if (!number.IsDyn && !Numeric(number))
                {
                    Error(negate._ops[0], $"found no matching overload for '-_' applied to '({number})'");
                    return RuleType.Dyn;
                }

                return number;
            case CelParser.MemberExprContext member:
                return Member(member.member(), scope);
            default:
                return RuleType.Dyn;
        }
    }

    private RuleType Member(CelParser.MemberContext c, Dictionary<string, RuleType> scope)
    {
        switch (c)
        {
            case CelParser.PrimaryExprContext primary:
                Count();
                return Primary(primary.primary(), scope);
            case CelParser.SelectContext select:
                Count();
                return Select(select, scope);
            case CelParser.MemberCallContext call:
                Count();
                return MemberCall(call, scope);
            case CelParser.IndexContext index:
                Count();
                var target = Member(index.member(), scope);
                var key = Expr(index.index, scope);
                if (index.opt is not null)
                {
                    Error(index.op, "optional indexing is not supported");
                }

                switch (target.Kind)
                {
                    case RuleKind.List:
                        if (!Is(key, RuleKind.Int))
                        {
                            Error(index.op, $"found no matching overload for '_[_]' applied to '({target}, {key})'");
                        }

                        return target.Elem!;
                    case RuleKind.Map:
                        if (!Is(key, RuleKind.String))
                        {
                            Error(index.op, $"found no matching overload for '_[_]' applied to '({target}, {key})'");
                        }

                        return target.Elem!;
                    case RuleKind.Dyn:
                        return RuleType.Dyn;
                    default:
                        Error(index.op, $"found no matching overload for '_[_]' applied to '({target}, {key})'");
                        return RuleType.Dyn;
                }

            default:
                return RuleType.Dyn;
        }
    }

    private RuleType Select(CelParser.SelectContext select, Dictionary<string, RuleType> scope)
    {
        var target = Member(select.member(), scope);
        var name = select.id.Text;
        if (select.opt is not null)
        {
            Error(select.op, "optional field selection is not supported");
            return RuleType.Dyn;
        }

        switch (target.Kind)
        {
            case RuleKind.Object:
                if (target.Fields!.TryGetValue(name, out var field))
                {
                    return field;
                }

                Error(select.op, $"undefined field '{name}'");
                return RuleType.Dyn;
            case RuleKind.Map:
                return target.Elem!;
            case RuleKind.Dyn:
                return RuleType.Dyn;
            default:
                Error(select.op, $"type '{target}' does not support field selection");
                return RuleType.Dyn;
        }
    }

    private RuleType MemberCall(CelParser.MemberCallContext call, Dictionary<string, RuleType> scope)
    {
        var name = call.id.Text;
        var args = call.args?._e ?? [];
        if (Macros.Contains(name) && args.Count is 2 or 3)
        {
            return Comprehension(call, name, args, scope);
        }

        var receiver = Member(call.member(), scope);
        var types = args.Select(a => Expr(a, scope)).ToList();
        if (!CelLibrary.MemberFunctions.Contains(name))
        {
            Error(call.open, $"undeclared reference to '{name}' (in container '')");
            return RuleType.Dyn;
        }

        var fits = receiver.IsDyn || name switch
        {
            _ when StringReceivers.Contains(name) => receiver.Kind == RuleKind.String,
            _ when ListReceivers.Contains(name) => receiver.Kind == RuleKind.List,
            _ when OptionalReceivers.Contains(name) => receiver.Kind == RuleKind.Optional,
            "size" => receiver.Kind is RuleKind.String or RuleKind.Bytes or RuleKind.List or RuleKind.Map,
            _ => receiver.Kind is RuleKind.String or RuleKind.List,
        };
        if (!fits)
        {
            Error(call.open, $"found no matching overload for '{name}' applied to '{receiver}.({string.Join(", ", types)})'");
            return RuleType.Dyn;
        }

        return name switch
        {
            "size" or "indexOf" or "lastIndexOf" => RuleType.Int,
            "startsWith" or "endsWith" or "contains" or "matches" or "isSorted" or "hasValue" => RuleType.Bool,
            "split" or "findAll" => RuleType.ListOf(RuleType.String),
            "sum" or "min" or "max" => receiver.Elem ?? RuleType.Dyn,
            "value" or "orValue" => receiver.Elem ?? RuleType.Dyn,
            _ => RuleType.String,
        };
    }

    private RuleType Comprehension(CelParser.MemberCallContext call, string name, IList<CelParser.ExprContext> args, Dictionary<string, RuleType> scope)
    {
        var range = Member(call.member(), scope);
        var variable = args[0].GetText();
        if (!IsIdentifier(variable))
        {
            Error(args[0].Start, "argument must be a simple name");
            return RuleType.Dyn;
        }

        if (args.Count == 3)
        {
            Error(call.open, $"{name}() with three arguments (a filter) is not supported by this server");
            return RuleType.Dyn;
        }

        RuleType element;
        switch (range.Kind)
        {
            case RuleKind.List:
                element = range.Elem!;
                break;
            case RuleKind.Map:
                element = RuleType.String;
                break;
            case RuleKind.Dyn:
                element = RuleType.Dyn;
                break;
            default:
                Error(call.open, $"expression of type '{range}' cannot be range of a comprehension (must be list, map, or dynamic)");
                return RuleType.Dyn;
        }

        var inner = new Dictionary<string, RuleType>(scope, StringComparer.Ordinal) { [variable] = element };
        var outer = _multiplier;
        _multiplier *= Math.Max(1, range.Kind == RuleKind.Dyn ? RuleType.MaxRequestSizeBytes / 2 : range.MaxElements);
        var body = Expr(args[1], inner);
        _multiplier = outer;
        if (name != "map" && !Is(body, RuleKind.Bool))
        {
            Error(args[1].Start, $"found no matching overload for '{name}' applied to '({range}, {body})'");
        }

        return name switch
        {
            "map" => RuleType.ListOf(body, range.Kind == RuleKind.Dyn ? RuleType.MaxRequestSizeBytes : range.MaxElements),
            "filter" => range.Kind == RuleKind.Map ? RuleType.ListOf(RuleType.String) : range,
            _ => RuleType.Bool,
        };
    }

    private RuleType Primary(CelParser.PrimaryContext c, Dictionary<string, RuleType> scope)
    {
        switch (c)
        {
            case CelParser.IdentOrGlobalCallContext ident:
                return ident.op is null ? Identifier(ident, scope) : GlobalCall(ident, scope);
            case CelParser.NestedContext nested:
                return Expr(nested.e, scope);
            case CelParser.CreateListContext list:
                var elems = list.elems?._elems ?? [];
                RuleType? common = null;
                foreach (var elem in elems)
                {
                    var type = Expr(elem.e, scope);
                    if (common is null || common.IsDyn)
                    {
                        common = type;
                    }
                    else if (!type.IsDyn && type.Kind != common.Kind)
                    {
                        Error(elem.Start, $"expected type '{common}' but found '{type}'");
                    }
                }

                return RuleType.ListOf(common ?? RuleType.Dyn, elems.Count);
            case CelParser.CreateStructContext map:
                RuleType? values = null;
                foreach (var key in map.entries?._keys ?? [])
                {
                    Expr(key.e, scope);
                }

                foreach (var value in map.entries?._values ?? [])
                {
                    var type = Expr(value, scope);
                    values = values is null || values.IsDyn ? type : values;
                }

                return RuleType.MapOf(values ?? RuleType.Dyn);
            case CelParser.CreateMessageContext message:
                Error(message.op, $"undeclared reference to '{string.Join('.', message._ids.Select(i => i.Text))}' (in container '')");
                return RuleType.Dyn;
            case CelParser.ConstantLiteralContext constant:
                return constant.literal() switch
                {
                    CelParser.IntContext or CelParser.UintContext => RuleType.Int,
                    CelParser.DoubleContext => RuleType.Double,
                    CelParser.StringContext => RuleType.String,
                    CelParser.BytesContext => RuleType.Bytes,
                    CelParser.BoolTrueContext or CelParser.BoolFalseContext => RuleType.Bool,
                    CelParser.NullContext => RuleType.Null,
                    _ => RuleType.Dyn,
                };
            default:
                return RuleType.Dyn;
        }
    }

    private RuleType Identifier(CelParser.IdentOrGlobalCallContext ident, Dictionary<string, RuleType> scope)
    {
        var name = ident.id.Text;
        if (scope.TryGetValue(name, out var local))
        {
            return local;
        }

        switch (name)
        {
            case "self":
                return self;
            case "oldSelf" when oldSelf is not null:
                UsesOldSelf = true;
                return oldSelf;
            case var _ when TypeNames.Contains(name):
                return RuleType.TypeOfType;
            default:
                Error(ident.id, $"undeclared reference to '{name}' (in container '')");
                return RuleType.Dyn;
        }
    }

    private RuleType GlobalCall(CelParser.IdentOrGlobalCallContext call, Dictionary<string, RuleType> scope)
    {
        var name = call.id.Text;
        var args = call.args?._e ?? [];
        if (name == "has")
        {
            if (args.Count != 1 || AsSelect(args[0]) is not { } select)
            {
                Error(args.Count > 0 ? args[0].Start : call.op, "invalid argument to has() macro");
                return RuleType.Bool;
            }

            Select(select, scope);
            return RuleType.Bool;
        }

        var types = args.Select(a => Expr(a, scope)).ToList();
        if (!CelLibrary.GlobalFunctions.Contains(name))
        {
            Error(call.op, $"undeclared reference to '{name}' (in container '')");
            return RuleType.Dyn;
        }

        if (name is "size" or "matches" && types.Count > 0 && !types[0].IsDyn
            && !(name == "size" ? types[0].Kind is RuleKind.String or RuleKind.Bytes or RuleKind.List or RuleKind.Map : types[0].Kind == RuleKind.String))
        {
            Error(call.op, $"found no matching overload for '{name}' applied to '({string.Join(", ", types)})'");
        }

        return name switch
        {
            "size" or "int" or "uint" => RuleType.Int,
            "matches" or "bool" => RuleType.Bool,
            "double" => RuleType.Double,
            "string" => RuleType.String,
            "bytes" => RuleType.Bytes,
            "type" => RuleType.TypeOfType,
            _ => types.Count == 1 && name == "dyn" ? RuleType.Dyn : RuleType.Dyn,
        };
    }

    /// <summary>The select expression an expression is, if it is nothing else (has()'s argument).</summary>
    private static CelParser.SelectContext? AsSelect(CelParser.ExprContext e) =>
        e.op is null && e.e._e1.Count == 0 && e.e.e._e1.Count == 0 && e.e.e.e is { op: null } relation
        && relation.calc() is { op: null } calc && calc.unary() is CelParser.MemberExprContext member
            ? member.member() as CelParser.SelectContext
            : null;

    private static bool IsIdentifier(string text) => text.Length > 0 && (char.IsAsciiLetter(text[0]) || text[0] == '_') && text.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');

    private static bool Is(RuleType type, RuleKind kind) => type.IsDyn || type.Kind == kind;

    private static bool Numeric(RuleType type) => type.Kind is RuleKind.Int or RuleKind.Double;

    private static bool Orderable(RuleType type) => type.Kind is RuleKind.Int or RuleKind.Double or RuleKind.String or RuleKind.Bytes or RuleKind.Bool;

    private static bool Comparable(RuleType left, RuleType right) =>
        left.IsDyn || right.IsDyn || left.Kind == right.Kind || (Numeric(left) && Numeric(right))
        || left.Kind == RuleKind.Null || right.Kind == RuleKind.Null;

    private void Count() => EstimatedCost += _multiplier;

    private void Error(IToken token, string message) => _issues.Add(RuleParser.Issue(source, token, message));
}

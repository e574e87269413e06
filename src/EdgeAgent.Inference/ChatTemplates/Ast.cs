namespace EdgeAgent.Inference.ChatTemplates;

// The syntax tree. Every node carries the source offset of its first token so runtime errors
// can report a line and column. Nodes are immutable after parsing; rendering never mutates them.

internal abstract record Node(int Offset);

internal sealed record TextNode(int Offset, string Text) : Node(Offset);

internal sealed record OutputNode(int Offset, Expr Value) : Node(Offset);

internal sealed record IfNode(int Offset, IReadOnlyList<(Expr Test, IReadOnlyList<Node> Body)> Branches, IReadOnlyList<Node>? Else) : Node(Offset);

internal sealed record ForNode(int Offset, Target Target, Expr Iterable, Expr? Filter, IReadOnlyList<Node> Body, IReadOnlyList<Node>? Else) : Node(Offset);

internal sealed record SetNode(int Offset, Target Target, Expr Value) : Node(Offset);

/// <summary><c>{% set x %}...{% endset %}</c>, optionally piped through filters.</summary>
internal sealed record SetBlockNode(int Offset, Target Target, IReadOnlyList<FilterExpr> Filters, IReadOnlyList<Node> Body) : Node(Offset);

internal sealed record MacroNode(int Offset, string Name, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Node> Body) : Node(Offset);

internal sealed record FilterBlockNode(int Offset, IReadOnlyList<FilterExpr> Filters, IReadOnlyList<Node> Body) : Node(Offset);

internal sealed record WithNode(int Offset, IReadOnlyList<(Target Target, Expr Value)> Assignments, IReadOnlyList<Node> Body) : Node(Offset);

/// <summary>A run of nodes with no scope of its own (the body of Hugging Face's <c>{% generation %}</c>).</summary>
internal sealed record SequenceNode(int Offset, IReadOnlyList<Node> Body) : Node(Offset);

internal sealed record BreakNode(int Offset) : Node(Offset);

internal sealed record ContinueNode(int Offset) : Node(Offset);

/// <summary>An assignment target: a name, a namespace attribute, or a tuple of targets.</summary>
internal abstract record Target(int Offset);

internal sealed record NameTarget(int Offset, string Name) : Target(Offset);

internal sealed record AttributeTarget(int Offset, string Object, string Attribute) : Target(Offset);

internal sealed record TupleTarget(int Offset, IReadOnlyList<Target> Items) : Target(Offset);

internal abstract record Expr(int Offset);

internal sealed record LiteralExpr(int Offset, object? Value) : Expr(Offset);

internal sealed record NameExpr(int Offset, string Name) : Expr(Offset);

internal sealed record ListExpr(int Offset, IReadOnlyList<Expr> Items) : Expr(Offset);

internal sealed record TupleExpr(int Offset, IReadOnlyList<Expr> Items) : Expr(Offset);

internal sealed record DictExpr(int Offset, IReadOnlyList<(Expr Key, Expr Value)> Items) : Expr(Offset);

/// <summary><c>obj.name</c>: attribute first, then item (jinja2 <c>Environment.getattr</c>).</summary>
internal sealed record GetAttrExpr(int Offset, Expr Object, string Name) : Expr(Offset);

/// <summary><c>obj[key]</c>: item first, then attribute (jinja2 <c>Environment.getitem</c>).</summary>
internal sealed record GetItemExpr(int Offset, Expr Object, Expr Key) : Expr(Offset);

internal sealed record SliceExpr(int Offset, Expr? Start, Expr? Stop, Expr? Step) : Expr(Offset);

internal sealed record CallExpr(int Offset, Expr Callee, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs) : Expr(Offset);

/// <summary><c>operand | name(args)</c>; <see cref="Operand"/> is null inside filter blocks and set blocks.</summary>
internal sealed record FilterExpr(int Offset, Expr? Operand, string Name, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs) : Expr(Offset);

internal sealed record TestExpr(int Offset, Expr Operand, string Name, IReadOnlyList<Expr> Args, bool Negated) : Expr(Offset);

internal enum UnaryOp
{
    Not,
    Negate,
    Plus,
}

internal sealed record UnaryExpr(int Offset, UnaryOp Op, Expr Operand) : Expr(Offset);

internal enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    Concat,
    And,
    Or,
}

internal sealed record BinaryExpr(int Offset, BinaryOp Op, Expr Left, Expr Right) : Expr(Offset);

internal enum CompareOp
{
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

/// <summary>A Python-style comparison chain: <c>a &lt; b &lt;= c</c> means <c>a &lt; b and b &lt;= c</c>.</summary>
internal sealed record CompareExpr(int Offset, Expr First, IReadOnlyList<(CompareOp Op, Expr Operand)> Rest) : Expr(Offset);

/// <summary><c>then if test else otherwise</c>; a missing else yields undefined.</summary>
internal sealed record CondExpr(int Offset, Expr Test, Expr Then, Expr? Else) : Expr(Offset);

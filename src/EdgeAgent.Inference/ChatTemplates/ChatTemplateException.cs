namespace EdgeAgent.Inference.ChatTemplates;

/// <summary>
/// Thrown when a chat template cannot be parsed, or when rendering it fails: a runtime error in
/// the template (an undefined value used where a value is required, a type error, a call to
/// <c>raise_exception</c>), or a resource bound being exceeded (output size, loop iterations,
/// call depth).
/// </summary>
/// <remarks>
/// <see cref="Line"/> and <see cref="Column"/> are 1-based positions in the template source and
/// are 0 when the error has no single source position.
/// </remarks>
public sealed class ChatTemplateException : Exception
{
    /// <summary>Creates an exception with a message and no source position.</summary>
    public ChatTemplateException(string message)
        : base(message)
    {
        Reason = message;
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public ChatTemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>Creates an exception at a 1-based source position.</summary>
    public ChatTemplateException(string message, int line, int column)
        : base(line > 0 ? $"{message} (line {line}, column {column})" : message)
    {
        Reason = message;
        Line = line;
        Column = column;
    }

    /// <summary>The error text without the position suffix.</summary>
    public string Reason { get; }

    /// <summary>1-based line of the error in the template source, or 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column of the error in the template source, or 0 when unknown.</summary>
    public int Column { get; }

    /// <summary>
    /// True when the template itself raised the error through <c>raise_exception(message)</c>;
    /// <see cref="Reason"/> is then the template's message.
    /// </summary>
    public bool RaisedByTemplate { get; init; }
}

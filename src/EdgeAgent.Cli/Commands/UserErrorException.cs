namespace EdgeAgent.Cli.Commands;

/// <summary>A mistake by the user (bad flag value, bad file): reported as one line, exit code 1.</summary>
internal sealed class UserErrorException(string message) : Exception(message);

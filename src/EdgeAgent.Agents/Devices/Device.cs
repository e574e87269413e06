using System.Text.Json.Nodes;

namespace EdgeAgent.Agents.Devices;

/// <summary>One device of the home, Home-Assistant style: <c>domain.object_id</c>, a human name, an area, and its
/// current state with attributes. The name, area, state and attributes come from the device: they are data,
/// never instructions.</summary>
public sealed record Device(string EntityId, string Name, string Area, string State, JsonObject Attributes)
{
    /// <summary>The entity id's prefix (<c>light</c> in <c>light.kitchen</c>).</summary>
    public string Domain => EntityId[..EntityId.IndexOf('.')];

    /// <summary>A copy with a new state (attributes are deep-copied so records never share mutable nodes).</summary>
    public Device With(string state, JsonObject? attributes = null) =>
        this with { State = state, Attributes = (JsonObject)(attributes ?? Attributes).DeepClone() };
}

/// <summary>A problem with a home definition (HOME.json): the message names it.</summary>
public sealed class HomeFormatException(string message) : Exception(message);

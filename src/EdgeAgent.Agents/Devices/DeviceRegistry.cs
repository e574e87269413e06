using System.Text.Json.Nodes;

namespace EdgeAgent.Agents.Devices;

/// <summary>
/// The live device registry: what exists in the home and each device's last known state. Thread-safe; readers get
/// immutable snapshots. <see cref="Changed"/> fires after each state update (outside the lock).
/// </summary>
public sealed class DeviceRegistry
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Device> _devices = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public DeviceRegistry(IEnumerable<Device> devices)
    {
        foreach (var d in devices)
        {
            if (!_devices.TryAdd(d.EntityId, d))
            {
                throw new HomeFormatException($"duplicate entity_id '{d.EntityId}'");
            }
            _order.Add(d.EntityId);
        }
    }

    /// <summary>Raised with the device's new snapshot after its state changed.</summary>
    public event Action<Device>? Changed;

    /// <summary>All devices, in definition order.</summary>
    public IReadOnlyList<Device> Devices
    {
        get
        {
            lock (_gate)
            {
                return _order.Select(id => _devices[id]).ToArray();
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _order.Count;
            }
        }
    }

    public bool Contains(string entityId)
    {
        lock (_gate)
        {
            return _devices.ContainsKey(entityId);
        }
    }

    public Device? Find(string entityId)
    {
        lock (_gate)
        {
            return _devices.GetValueOrDefault(entityId);
        }
    }

    /// <summary>Records a new state for a known device; returns false (and changes nothing) for an unknown one.</summary>
    public bool Update(string entityId, string state, JsonObject? attributes)
    {
        Device updated;
        lock (_gate)
        {
            if (!_devices.TryGetValue(entityId, out var d))
            {
                return false;
            }
            var merged = (JsonObject)d.Attributes.DeepClone();
            if (attributes is not null)
            {
                foreach (var (k, v) in attributes)
                {
                    merged[k] = v?.DeepClone();
                }
            }
            updated = d with { State = state, Attributes = merged };
            _devices[entityId] = updated;
        }
        Changed?.Invoke(updated);
        return true;
    }
}

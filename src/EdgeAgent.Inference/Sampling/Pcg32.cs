namespace EdgeAgent.Inference.Sampling;

/// <summary>
/// PCG32 (O'Neill 2014, pcg32_random_r): a small seeded generator whose output does not depend on the .NET
/// version, so sampling with a seed is reproducible everywhere.
/// </summary>
public struct Pcg32
{
    private ulong _state;
    private readonly ulong _inc;

    public Pcg32(ulong seed, ulong stream = 0xda3e39cb94b95bdbUL)
    {
        _state = 0;
        _inc = (stream << 1) | 1;
        NextUInt32();
        _state += seed;
        NextUInt32();
    }

    public uint NextUInt32()
    {
        ulong old = _state;
        _state = unchecked(old * 6364136223846793005UL + _inc);
        uint xorshifted = (uint)(((old >> 18) ^ old) >> 27);
        int rot = (int)(old >> 59);
        return (xorshifted >> rot) | (xorshifted << (-rot & 31));
    }

    /// <summary>Uniform in [0, 1) with 24 bits of precision.</summary>
    public float NextSingle() => (NextUInt32() >> 8) * (1f / (1 << 24));
}

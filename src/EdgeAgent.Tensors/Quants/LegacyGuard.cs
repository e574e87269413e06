using System.Diagnostics.CodeAnalysis;

namespace EdgeAgent.Tensors.Quants;

/// <summary>
/// Argument checks shared by the legacy-quant and float formats. They run once at the public boundary; the
/// throwing lives in <see cref="DoesNotReturnAttribute"/> helpers so the checks inline to a compare and a branch.
/// </summary>
internal static class LegacyGuard
{
    /// <summary>Number of blocks in <paramref name="n"/> elements.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is negative or not a multiple of <paramref name="blockSize"/>.</exception>
    public static int Blocks(int n, int blockSize, string paramName)
    {
        if (n < 0 || n % blockSize != 0)
        {
            ThrowNotWholeBlocks(n, blockSize, paramName);
        }
        return n / blockSize;
    }

    /// <summary>Checks that a buffer of <paramref name="length"/> bytes or elements holds at least <paramref name="needed"/>.</summary>
    /// <exception cref="ArgumentException">The buffer is too small.</exception>
    public static void Fits(int length, long needed, string paramName)
    {
        if (length < needed)
        {
            ThrowTooSmall(length, needed, paramName);
        }
    }

    /// <summary>
    /// Checks a dot product's arguments: <paramref name="n"/> whole blocks, a weight row of
    /// <paramref name="weightBlockBytes"/>-byte blocks and an activation row of <paramref name="activationBlockBytes"/>-byte blocks.
    /// </summary>
    public static int DotBlocks(int n, int blockSize, int weightsLength, int weightBlockBytes, int activationsLength, int activationBlockBytes)
    {
        int nb = Blocks(n, blockSize, "n");
        Fits(weightsLength, (long)nb * weightBlockBytes, "weights");
        Fits(activationsLength, (long)nb * activationBlockBytes, "activations");
        return nb;
    }

    [DoesNotReturn]
    private static void ThrowNotWholeBlocks(int n, int blockSize, string paramName) =>
        throw new ArgumentException($"length {n} is not a non-negative multiple of the block size {blockSize}", paramName);

    [DoesNotReturn]
    private static void ThrowTooSmall(int length, long needed, string paramName) =>
        throw new ArgumentException($"buffer holds {length} but {needed} are needed", paramName);
}

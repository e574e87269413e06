using System.Runtime.InteropServices;
using System.Text;
using EdgeAgent.Training.Model;

namespace EdgeAgent.Training;

/// <summary>
/// Training checkpoint: magic, the run's key (what the caller says identifies the run: corpus, steps, rates), model
/// shape, step, sampler state, then parameters and both AdamW moments as raw float32. Written through a temporary
/// file so an interrupted save never leaves a torn checkpoint. A checkpoint of another run (another key) is refused,
/// so a stale file is never resumed by mistake; version-1 files (no key) are still read.
/// </summary>
internal static class Checkpoint
{
    private const string Magic = "EATRAIN2";
    private const string MagicV1 = "EATRAIN1";

    public static void Save(string path, Trainer trainer, Rng rng, string runKey)
    {
        var tmp = path + ".partial";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        using (var w = new BinaryWriter(fs, Encoding.UTF8))
        {
            w.Write(Encoding.ASCII.GetBytes(Magic));
            w.Write(runKey);
            WriteShape(w, trainer.Model.Shape);
            w.Write(trainer.Step);
            w.Write(trainer.Optimizer.Steps);
            foreach (var s in rng.State)
            {
                w.Write(s);
            }
            w.Write(MemoryMarshal.AsBytes(trainer.Model.Parameters.AsSpan()));
            w.Write(MemoryMarshal.AsBytes(trainer.Optimizer.M.AsSpan()));
            w.Write(MemoryMarshal.AsBytes(trainer.Optimizer.V.AsSpan()));
        }
        File.Move(tmp, path, overwrite: true);
    }

    public static int Load(string path, Trainer trainer, Rng rng, string runKey)
    {
        using var fs = File.OpenRead(path);
        using var r = new BinaryReader(fs, Encoding.UTF8);
        try
        {
            string magic = Encoding.ASCII.GetString(r.ReadBytes(Magic.Length));
            if (magic != Magic && magic != MagicV1)
            {
                throw new InvalidDataException($"{path} is not a training checkpoint");
            }
            if (magic == Magic && r.ReadString() is var key && runKey.Length > 0 && key.Length > 0 && key != runKey)
            {
                throw new InvalidDataException($"{path} is the checkpoint of another run ({key}), not of this one ({runKey}): give another --checkpoint or delete it");
            }
            var shape = ReadShape(r);
            if (shape != trainer.Model.Shape)
            {
                throw new InvalidDataException($"{path} holds a model of shape {shape}, not {trainer.Model.Shape}");
            }
            int step = r.ReadInt32();
            trainer.Optimizer.Steps = r.ReadInt32();
            rng.State = [r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64()];
            ReadFloats(r, trainer.Model.Parameters);
            ReadFloats(r, trainer.Optimizer.M);
            ReadFloats(r, trainer.Optimizer.V);
            return step;
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path} is a truncated checkpoint");
        }
    }

    private static void ReadFloats(BinaryReader r, float[] dst)
    {
        var bytes = MemoryMarshal.AsBytes(dst.AsSpan());
        if (r.Read(bytes) != bytes.Length)
        {
            throw new EndOfStreamException();
        }
    }

    private static void WriteShape(BinaryWriter w, ModelShape s)
    {
        w.Write(s.Dim);
        w.Write(s.Layers);
        w.Write(s.Heads);
        w.Write(s.KvHeads);
        w.Write(s.FfnDim);
        w.Write(s.VocabSize);
        w.Write(s.ContextLength);
        w.Write(s.TiedOutput);
        w.Write(s.RopeBase);
        w.Write(s.RmsEps);
    }

    private static ModelShape ReadShape(BinaryReader r) => new(r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(),
        r.ReadInt32(), r.ReadInt32(), r.ReadBoolean(), r.ReadSingle(), r.ReadSingle());
}

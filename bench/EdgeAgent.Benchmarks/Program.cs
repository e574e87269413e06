using BenchmarkDotNet.Running;
using EdgeAgent.Benchmarks;

// EdgeAgent.Benchmarks kernels [BenchmarkDotNet args]   kernel micro-benchmarks
// EdgeAgent.Benchmarks side-by-side [options]           our engine vs llama.cpp on the model shapes
// EdgeAgent.Benchmarks run-one ...                      one engine on one file (a child process of side-by-side)
return args.FirstOrDefault() switch
{
    "kernels" => RunKernels(args[1..]),
    "side-by-side" => SideBySide.Run(args[1..]),
    "run-one" => EngineRun.Run(args[1..]),
    _ => Usage(),
};

static int RunKernels(string[] rest)
{
    BenchmarkSwitcher.FromAssembly(typeof(MatMulBenchmarks).Assembly).Run(rest);
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: EdgeAgent.Benchmarks (kernels [bdn args] | side-by-side [--threads 2] [--prompt 128] [--gen 64] [--reps 2] [--rounds 2] [--models a,b] [--dir DIR] [--keep] [--out docs])");
    return 2;
}

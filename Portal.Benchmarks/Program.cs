using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// In-process: the projects are self-contained .NET 8 and no .NET 8 runtime is installed for the
// separate process BenchmarkDotNet would otherwise build and start (ADR 1).
var config = DefaultConfig.Instance.AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance));
BenchmarkSwitcher.FromAssembly(typeof(Portal.Benchmarks.HotPathBenchmarks).Assembly).Run(args, config);

using System.Net;
using System.Net.Sockets;
using LowRankBias.Torch.Distributed;

namespace LowRankBias.Torch.Tests.Distributed;

public class ProcessGroupTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void AllReduceSumsEveryRanksTensorAndMinMaxProductFollow(int world)
    {
        double[][] results = LocalRanks.Run(world, group =>
        {
            using var scope = torch.NewDisposeScope();
            double r = group.rank;
            Tensor sum = torch.tensor(new[] { r, 10 * r + 1 }, [2]).to(ScalarType.Float64);
            group.all_reduce(sum);
            Tensor max = torch.tensor(new[] { r }, [1]).to(ScalarType.Float64);
            group.all_reduce(max, ReduceOp.MAX);
            Tensor product = torch.tensor(new[] { r + 1 }, [1]).to(ScalarType.Float64);
            group.all_reduce(product, ReduceOp.PRODUCT);
            return new[] { sum.ToArray<double>()[0], sum.ToArray<double>()[1], max.item<double>(), product.item<double>() };
        });
        double n = world;
        foreach (double[] r in results)
            Assert.Equal(new[] { n * (n - 1) / 2, 10 * n * (n - 1) / 2 + n, n - 1, Enumerable.Range(1, world).Aggregate(1.0, (a, b) => a * b) }, r);
    }

    [Fact]
    public void AllGatherStacksRanksInOrderAndBroadcastCopiesTheRoots()
    {
        float[][] results = LocalRanks.Run<float[]>(3, group =>
        {
            using var scope = torch.NewDisposeScope();
            Tensor mine = torch.full([2, 2], group.rank + 0.5);
            Tensor gathered = group.all_gather(mine);
            Tensor shared = torch.full([3], (double)group.rank);
            group.broadcast(shared, src: 2);
            group.barrier();
            return [.. gathered.ToArray<float>(), .. shared.ToArray<float>()];
        });
        float[] expected = [.. Enumerable.Range(0, 3).SelectMany(r => Enumerable.Repeat(r + 0.5f, 4)), 2f, 2f, 2f];
        foreach (float[] r in results) Assert.Equal(expected, r);
    }

    [Fact]
    public void StatsCountPayloadBytesPerCollective()
    {
        CommunicationStats[] stats = LocalRanks.Run(2, group =>
        {
            using var scope = torch.NewDisposeScope();
            group.all_reduce(torch.zeros([10]));
            group.all_reduce(torch.zeros([5], ScalarType.Float64));
            group.all_gather(torch.zeros([3]));
            return group.stats;
        });
        Assert.Equal(2, stats[0].Calls(CollectiveKind.AllReduce));
        Assert.Equal(10 * 4 + 5 * 8, stats[0].PayloadBytes(CollectiveKind.AllReduce));
        Assert.Equal(12, stats[1].PayloadBytes(CollectiveKind.AllGather));
        Assert.Equal(80 * 2 * 1 / 2.0 + 12 * 1, stats[1].WireBytes(2));
    }

    [Fact]
    public void DifferentConfigurationsAreRefusedOnEveryRankNamingTheFields()
    {
        string[] messages = LocalRanks.Run(2, group =>
        {
            var config = new { Heads = 4, Rank = group.rank == 0 ? 8 : 16, Optimizer = new { lr = 0.1 } };
            try
            {
                group.CheckSameConfiguration("LTE options", config);
                return "accepted";
            }
            catch (DistributedException e)
            {
                return e.Message;
            }
        });
        foreach (string m in messages)
        {
            Assert.Contains("Rank: rank 0 has 8, rank 1 has 16", m);
            Assert.DoesNotContain("Heads", m);
        }
        string[] same = LocalRanks.Run(2, group => { group.CheckSameConfiguration("LTE options", new { Heads = 4 }); return "accepted"; });
        Assert.All(same, s => Assert.Equal("accepted", s));
    }

    [Fact]
    public void APeerThatNeverJoinsTheCollectiveTimesOutWithAClearError()
    {
        string[] outcomes = LocalRanks.Run(2, group =>
        {
            if (group.rank == 1) { Thread.Sleep(TimeSpan.FromSeconds(6)); return "idle"; }
            using var scope = torch.NewDisposeScope();
            var e = Assert.Throws<DistributedException>(() => group.all_reduce(torch.ones([4])));
            return e.Message;
        }, timeout: TimeSpan.FromSeconds(2));
        Assert.Contains("rank 0 of 2: all_reduce failed", outcomes[0]);
    }

    [Fact]
    public void APortInUseAndAnUnreachableMasterFailWithinTheTimeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int busy = ((IPEndPoint)listener.LocalEndpoint).Port;
        var inUse = Assert.Throws<DistributedException>(() => new TCPStore("127.0.0.1", busy, is_server: true, TimeSpan.FromSeconds(2)));
        Assert.Contains("port in use", inUse.Message);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var unreachable = Assert.Throws<DistributedException>(() => new TCPStore("127.0.0.1", LocalRanks.FreePort(), is_server: false, TimeSpan.FromSeconds(2)));
        Assert.Contains("could not reach the rendezvous store", unreachable.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task AWorldSizeMismatchIsRefused()
    {
        int port = LocalRanks.FreePort();
        // Rank 0 believes in 2 ranks, rank 1 in 3: rank 0's group cannot form with a rank from another world.
        Task<Exception?>[] ranks = [.. new[] { (0, 2), (1, 3) }.Select(p => Task.Run(() =>
        {
            try
            {
                using ProcessGroup g = ProcessGroup.init_process_group("gloo", TimeSpan.FromSeconds(3), LocalRanks.Environment(p.Item1, p.Item2, port));
                g.CheckSameConfiguration("setup", new { });
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }))];
        Exception?[] outcomes = await Task.WhenAll(ranks).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(outcomes, e => Assert.IsType<DistributedException>(e));
    }

    [Fact]
    public void BadArgumentsAreRejectedBeforeAnyNetworking()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TCPStore("127.0.0.1", 0, true, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TCPStore("127.0.0.1", 29500, true, TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => ProcessGroup.init_process_group("mpi", TimeSpan.FromSeconds(1), LocalRanks.Environment(0, 1, LocalRanks.FreePort())));
        Assert.False(ProcessGroup.is_backend_available("nccl") && !torch.cuda.is_available());
    }

    [Fact]
    public void EnvironmentFollowsTorchrunThenSlurmThenOpenMpi()
    {
        var torchrun = DistributedEnvironment.FromVariables(new Dictionary<string, string?> { ["RANK"] = "3", ["WORLD_SIZE"] = "4", ["LOCAL_RANK"] = "1", ["MASTER_ADDR"] = "10.0.0.1", ["MASTER_PORT"] = "1234" }.GetValueOrDefault);
        Assert.Equal(new DistributedEnvironment { Rank = 3, WorldSize = 4, LocalRank = 1, MasterAddress = "10.0.0.1", MasterPort = 1234, Source = "torchrun" }, torchrun);
        var slurm = DistributedEnvironment.FromVariables(new Dictionary<string, string?> { ["SLURM_PROCID"] = "5", ["SLURM_NTASKS"] = "8", ["SLURM_LOCALID"] = "1", ["SLURM_LAUNCH_NODE_IPADDR"] = "10.1.1.1" }.GetValueOrDefault);
        Assert.Equal((5, 8, 1, "10.1.1.1", "slurm"), (slurm.Rank, slurm.WorldSize, slurm.LocalRank, slurm.MasterAddress, slurm.Source));
        var mpi = DistributedEnvironment.FromVariables(new Dictionary<string, string?> { ["OMPI_COMM_WORLD_RANK"] = "2", ["OMPI_COMM_WORLD_SIZE"] = "3", ["MASTER_ADDR"] = "h0" }.GetValueOrDefault);
        Assert.Equal((2, 3, "h0", "openmpi"), (mpi.Rank, mpi.WorldSize, mpi.MasterAddress, mpi.Source));
        Assert.Equal(1, DistributedEnvironment.FromVariables(_ => null).WorldSize);
        // torchrun's elastic agent: its store, and how often this rank was restarted; the variables round-trip.
        var restarted = torchrun with { AgentStore = true, RestartCount = 2 };
        Assert.Equal(restarted, DistributedEnvironment.FromVariables(restarted.ToVariables().GetValueOrDefault));
        Assert.Throws<ArgumentException>(() => DistributedEnvironment.FromVariables(new Dictionary<string, string?> { ["RANK"] = "4", ["WORLD_SIZE"] = "4" }.GetValueOrDefault));
        Assert.Throws<ArgumentException>(() => DistributedEnvironment.FromVariables(new Dictionary<string, string?> { ["RANK"] = "0", ["WORLD_SIZE"] = "two" }.GetValueOrDefault));
    }
}

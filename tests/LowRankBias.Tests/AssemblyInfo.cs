// Many tests here count live native tensors or draw from libtorch's process-wide generator; running the classes
// one after another keeps those checks exact, and the whole project still runs in seconds.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

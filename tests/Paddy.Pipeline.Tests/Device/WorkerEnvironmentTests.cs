using Paddy.Pipeline.Device;

namespace Paddy.Pipeline.Tests.Device;

public sealed class WorkerEnvironmentTests
{
    private static string? Unset(string name) => null;

    private static Func<string, string?> Visible(string devices) => name => name == "CUDA_VISIBLE_DEVICES" ? devices : null;

    [Fact]
    public void A_variable_the_user_has_set_is_left_for_the_child_to_inherit()
    {
        var environment = WorkerEnvironment.For("cpu", 4, name => name is "CUBLAS_WORKSPACE_CONFIG" or "OMP_NUM_THREADS" ? "user" : null);
        Assert.False(environment.ContainsKey("CUBLAS_WORKSPACE_CONFIG"));
        Assert.False(environment.ContainsKey("OMP_NUM_THREADS"));
        Assert.Equal("4", environment["MKL_NUM_THREADS"]);
    }

    [Fact]
    public void A_cuda_N_worker_sees_only_GPU_N_in_PCI_order_with_deterministic_cublas_and_sleeping_threads()
    {
        var environment = WorkerEnvironment.For("cuda:2", cores: 3, Unset);

        Assert.Equal("2", environment["CUDA_VISIBLE_DEVICES"]);
        Assert.Equal("2", environment[WorkerEnvironment.NarrowedDeviceVariable]);
        Assert.Equal("PCI_BUS_ID", environment["CUDA_DEVICE_ORDER"]);
        Assert.Equal(":4096:8", environment["CUBLAS_WORKSPACE_CONFIG"]);
        Assert.Equal("3", environment["OMP_NUM_THREADS"]);
        Assert.Equal("3", environment["MKL_NUM_THREADS"]);
        Assert.Equal("PASSIVE", environment["OMP_WAIT_POLICY"]);
        Assert.Equal("0", environment["GOMP_SPINCOUNT"]);
        Assert.Equal("0", environment["KMP_BLOCKTIME"]);
    }

    [Fact]
    public void Cuda_N_counts_within_the_parents_visible_devices_and_other_choices_leave_the_GPUs_alone()
    {
        Assert.Equal("GPU-b", WorkerEnvironment.For("cuda:1", 2, Visible("GPU-a, GPU-b"))["CUDA_VISIBLE_DEVICES"]);
        Assert.Equal("7", WorkerEnvironment.For("CUDA:1", 2, Visible("3,7"))["CUDA_VISIBLE_DEVICES"]);
        foreach (var choice in new[] { "auto", "cpu", "cuda" })
        {
            var environment = WorkerEnvironment.For(choice, 2, Unset);
            Assert.False(environment.ContainsKey("CUDA_VISIBLE_DEVICES"), choice);
            Assert.Equal(":4096:8", environment["CUBLAS_WORKSPACE_CONFIG"]);
        }
        var error = Assert.Throws<ArgumentException>(() => WorkerEnvironment.For("cuda:2", 2, Visible("3,7")));
        Assert.Contains("CUDA_VISIBLE_DEVICES=3,7", error.Message);
    }

    [Fact]
    public void Cpu_budget_counts_the_affinity_list_and_rounds_a_cgroup_quota_up()
    {
        Assert.Equal(7, CpuBudget.CountCpuList("0-3,8,10-11"));
        Assert.Equal(1, CpuBudget.CountCpuList("5"));
        Assert.Null(CpuBudget.QuotaCoresFromCpuMax("max 100000"));
        Assert.Equal(2, CpuBudget.QuotaCoresFromCpuMax("150000 100000"));
        Assert.Equal(1, CpuBudget.QuotaCoresFromCpuMax("50000 100000"));
        Assert.Null(CpuBudget.QuotaCores(-1, 100000));
        Assert.InRange(CpuBudget.Cores, 1, Environment.ProcessorCount);
    }
}

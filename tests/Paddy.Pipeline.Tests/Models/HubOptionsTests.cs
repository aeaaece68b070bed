using Paddy.Pipeline.Models.Weights;

namespace Paddy.Pipeline.Tests.Models;

public sealed class HubOptionsTests
{
    private const string Home = "/home/someone";

    private static HubOptions FromVariables(params (string Name, string Value)[] variables)
    {
        var values = variables.ToDictionary(v => v.Name, v => v.Value);
        return HubOptions.FromVariables(name => values.GetValueOrDefault(name), Home);
    }

    [Fact]
    public void NoVariables_GiveHuggingFaceDefaults()
    {
        var options = FromVariables();

        Assert.Equal("https://huggingface.co", options.Endpoint);
        Assert.Equal("/home/someone/.cache/huggingface/hub", options.CacheDirectory);
        Assert.False(options.Offline);
        Assert.Null(options.Token);
    }

    [Theory]
    [InlineData("HF_HOME", "/data/hf", "/data/hf/hub")]
    [InlineData("HF_HOME", "~/hf", "/home/someone/hf/hub")]
    [InlineData("XDG_CACHE_HOME", "/xdg", "/xdg/huggingface/hub")]
    [InlineData("HF_HUB_CACHE", "/fast/hub", "/fast/hub")]
    [InlineData("HUGGINGFACE_HUB_CACHE", "/legacy/hub", "/legacy/hub")]
    public void CacheDirectory_FollowsTheVariableThatIsSet(string name, string value, string expected) =>
        Assert.Equal(expected, FromVariables((name, value)).CacheDirectory);

    [Fact]
    public void HubCacheVariable_WinsOverHfHome() =>
        Assert.Equal("/fast/hub", FromVariables(("HF_HOME", "/data/hf"), ("HF_HUB_CACHE", "/fast/hub")).CacheDirectory);

    [Fact]
    public void Endpoint_LosesItsTrailingSlash() =>
        Assert.Equal("http://mirror.local:8080", FromVariables(("HF_ENDPOINT", "http://mirror.local:8080/")).Endpoint);

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("YES", true)]
    [InlineData("on", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("", false)]
    public void Offline_AcceptsHuggingFaceTrueValues(string value, bool expected) =>
        Assert.Equal(expected, FromVariables(("HF_HUB_OFFLINE", value)).Offline);

    [Fact]
    public void Token_ComesFromHfTokenElseTheTokenFileUnderHfHome()
    {
        var hfHome = Directory.CreateTempSubdirectory("paddy-hub-home-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(hfHome, "token"), "hf_from_file\n");

            Assert.Equal("hf_from_file", FromVariables(("HF_HOME", hfHome)).Token);
            Assert.Equal("hf_from_env", FromVariables(("HF_HOME", hfHome), ("HF_TOKEN", "hf_from_env")).Token);
        }
        finally
        {
            Directory.Delete(hfHome, recursive: true);
        }
    }

    [Fact]
    public void ToString_NeverShowsTheToken()
    {
        var text = FromVariables(("HF_TOKEN", "hf_secret_value")).ToString();

        Assert.DoesNotContain("hf_secret_value", text);
        Assert.Contains("token set", text);
    }
}

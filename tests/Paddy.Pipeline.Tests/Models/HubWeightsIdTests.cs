using Paddy.Pipeline.Models.Weights;

namespace Paddy.Pipeline.Tests.Models;

public sealed class HubWeightsIdTests : IDisposable
{
    private readonly string _base = Directory.CreateTempSubdirectory("paddy-hub-ids-").FullName;

    public void Dispose() => Directory.Delete(_base, recursive: true);

    [Theory]
    [InlineData("hf:timm/convnext_large.fb_in22k", "timm", "convnext_large.fb_in22k", "main")]
    [InlineData("hf:timm/vit_base_patch16_224.augreg2_in21k_ft_in1k@v1.0", "timm", "vit_base_patch16_224.augreg2_in21k_ft_in1k", "v1.0")]
    [InlineData("hf:some-org/model_x@refs/pr/1", "some-org", "model_x", "refs/pr/1")]
    public void HubId_ParsesIntoOrganizationRepositoryAndRevision(string id, string organization, string repository, string revision)
    {
        var source = WeightsSource.Parse(id, _base);

        Assert.Equal(new HubFileReference(organization, repository, revision), source.HubFile);
        Assert.Null(source.LocalPath);
        Assert.Equal(id, source.Id);
    }

    [Theory]
    [InlineData("hf:")]
    [InlineData("hf:timm")]
    [InlineData("hf:timm/")]
    [InlineData("hf:/convnext")]
    [InlineData("hf:timm/convnext/extra")]
    [InlineData("hf:timm/convnext@")]
    [InlineData("hf:timm/conv--next")]
    [InlineData("hf:timm/convnext@../../escape")]
    [InlineData("hf:timm/conv next")]
    public void MalformedHubId_FailsNamingTheIdAndTheForm(string id)
    {
        var error = Assert.Throws<WeightsSourceException>(() => WeightsSource.Parse(id, _base));

        Assert.Contains($"'{id}'", error.Message);
        Assert.Contains("hf:{org}/{repo}", error.Message);
    }

    [Fact]
    public async Task LocalPath_RelativeToTheBaseDirectory_ResolvesToTheFileWithoutTheHub()
    {
        Directory.CreateDirectory(Path.Combine(_base, "weights"));
        var file = Path.Combine(_base, "weights", "model.safetensors");
        File.WriteAllBytes(file, [1, 2, 3]);
        var unreachable = new HubOptions { Endpoint = "http://127.0.0.1:9", CacheDirectory = Path.Combine(_base, "cache") };

        var relative = WeightsSource.Parse("weights/model.safetensors", _base);
        var absolute = WeightsSource.Parse(file, "/somewhere/else");

        Assert.Null(relative.HubFile);
        Assert.Equal(file, await relative.ResolveAsync(unreachable, null, CancellationToken.None));
        Assert.Equal(file, await absolute.ResolveAsync(unreachable, null, CancellationToken.None));
        Assert.False(Directory.Exists(unreachable.CacheDirectory));
    }

    [Fact]
    public void MissingLocalPath_FailsNamingTheIdAndThePathLookedAt()
    {
        var error = Assert.Throws<WeightsSourceException>(() => WeightsSource.Parse("missing/model.safetensors", _base));

        Assert.Contains("'missing/model.safetensors'", error.Message);
        Assert.Contains(Path.Combine(_base, "missing", "model.safetensors"), error.Message);
    }

    [Fact]
    public void MissingPathShapedLikeARepository_SuggestsTheHubPrefix()
    {
        var error = Assert.Throws<WeightsSourceException>(() => WeightsSource.Parse("timm/convnext_tiny.in12k", _base));

        Assert.Contains("write hf:timm/convnext_tiny.in12k", error.Message);
    }

    [Fact]
    public void ResolveUrl_EscapesTheRevisionAsOneSegment_LikeHuggingFaceHub()
    {
        var file = new HubFileReference("timm", "convnext_tiny.in12k", "refs/pr/1");

        Assert.Equal(
            "https://huggingface.co/timm/convnext_tiny.in12k/resolve/refs%2Fpr%2F1/model.safetensors",
            file.ResolveUrl("https://huggingface.co/").AbsoluteUri);
        Assert.Equal("models--timm--convnext_tiny.in12k", file.CacheFolderName);
    }

    [Fact]
    public void EndpointWithoutScheme_FailsNamingHfEndpoint()
    {
        var error = Assert.Throws<WeightsSourceException>(
            () => new HubFileReference("timm", "convnext_tiny.in12k", "main").ResolveUrl("huggingface.co"));

        Assert.Contains("'huggingface.co' (HF_ENDPOINT)", error.Message);
        Assert.Contains("hf:timm/convnext_tiny.in12k@main", error.Message);
    }
}

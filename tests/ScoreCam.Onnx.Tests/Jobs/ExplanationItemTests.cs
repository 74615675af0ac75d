using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Jobs;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Tests.Jobs;

public class ExplanationItemTests
{
    private static readonly ExplanationSpec Spec = new()
    {
        ModelKey = ContentKey.Of(new byte[] { 1, 2, 3 }),
        Layer = "features",
        Preprocess = new PreprocessOptions { Width = 32, Height = 48, Mean = new[] { 0.5f, 0.25f, 0.125f }, Resize = ResizeMode.Crop, Bgr = true },
        Labels = new[] { "red", "green", "blue" },
        MaxImagePixels = 12345,
        Settings = new MethodSettings
        {
            Rise = new RiseOptions { Masks = 123, Seed = 7 },
            ScoreCam = new ScoreCamOptions { MaxChannels = 2, Masks = MaskMode.Binarized },
            Reduction = ChannelReduction.L2,
            Variant = CompatibilityVariant.TorchCam,
        },
        Target = "green",
        Style = new PictureStyle(new OverlayOptions { Colormap = Colormap.Viridis, Alpha = 0.25f, MinShortSide = 0, ColorBar = true }, Panel: false,
            View: AttributionView.Signed),
        HeatmapValues = true,
    };

    [Test]
    public void A_spec_travels_as_JSON_without_losing_a_setting()
    {
        ExplanationSpec back = ExplanationSpec.FromJson(Spec.ToJson());
        back.ToJson().Should().Be(Spec.ToJson());
        back.Preprocess.Mean.Should().Equal(0.5f, 0.25f, 0.125f);
        back.Preprocess.Resize.Should().Be(ResizeMode.Crop);
        back.Settings.Should().BeEquivalentTo(Spec.Settings);
        back.Style.Should().BeEquivalentTo(Spec.Style);
        back.Labels.Should().Equal("red", "green", "blue");
        back.Preparation().ProbeSize.Should().Be((224, 224));
        back.ExplanationTarget().Should().Be(ExplanationTarget.Label("green"));
    }

    [Test]
    public void An_item_travels_as_bytes_and_keeps_its_result_key()
    {
        var item = new ExplanationItem(Spec, ContentKey.Of(new byte[] { 9 }), "pictures/a.png", "scorecam");
        ExplanationItem back = ExplanationItem.FromBytes(item.ToBytes());
        back.ResultKey.Should().Be(item.ResultKey);
        back.PictureName.Should().Be("pictures/a.png");
        FluentActions.Invoking(() => ExplanationItem.FromBytes("{\"method\":\"scorecam\"}"u8.ToArray())).Should().Throw<System.Text.Json.JsonException>();
    }

    [Test]
    public void The_result_key_follows_model_picture_method_and_every_setting_but_not_the_picture_s_name()
    {
        string picture = ContentKey.Of(new byte[] { 9 });
        string key = new ExplanationItem(Spec, picture, "a.png", "scorecam").ResultKey;
        new ExplanationItem(Spec, picture, "b.png", "scorecam").ResultKey.Should().Be(key, "the name only labels messages");
        var changed = new[]
        {
            new ExplanationItem(Spec with { ModelKey = ContentKey.Of(new byte[] { 1, 2, 4 }) }, picture, "a.png", "scorecam"),
            new ExplanationItem(Spec, ContentKey.Of(new byte[] { 8 }), "a.png", "scorecam"),
            new ExplanationItem(Spec, picture, "a.png", "gradcam"),
            new ExplanationItem(Spec with { Settings = Spec.Settings with { Rise = new RiseOptions { Masks = 124, Seed = 7 } } }, picture, "a.png", "scorecam"),
            new ExplanationItem(Spec with { Style = Spec.Style with { Panel = true } }, picture, "a.png", "scorecam"),
            new ExplanationItem(Spec with { Target = null }, picture, "a.png", "scorecam"),
            new ExplanationItem(Spec with { Preprocess = Spec.Preprocess with { Std = new[] { 1f, 1f, 1f } } }, picture, "a.png", "scorecam"),
        };
        changed.Select(i => i.ResultKey).Should().NotContain(key).And.OnlyHaveUniqueItems();
    }

    [Test]
    public void Content_keys_are_SHA_256_and_parts_cannot_run_into_each_other()
    {
        ContentKey.Of("abc"u8).Should().Be("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); // FIPS 180-2's example
        ContentKey.Of("ab", "c").Should().NotBe(ContentKey.Of("a", "bc"));
    }
}

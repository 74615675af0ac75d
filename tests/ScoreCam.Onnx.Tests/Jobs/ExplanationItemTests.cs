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
        back.Style.Should().BeEquivalentTo(Spec.Style);
        back.Labels.Should().Equal("red", "green", "blue");
        back.Preparation().ProbeSize.Should().Be((224, 224));
        back.ExplanationTarget().Should().Be(ExplanationTarget.Label("green"));
    }

    private static IExplanationMethod Method(string name, params (string Option, string Value)[] options) =>
        MethodCatalog.Create(name, options.Aggregate(new MethodSettings(), (s, o) => s.With(o.Option, o.Value)));

    private static ExplanationItem Item(ExplanationSpec spec, string picture, string name, IExplanationMethod method) => ExplanationItem.Of(spec, picture, name, method);

    [Test]
    public void An_item_travels_as_bytes_and_rebuilds_its_method_with_its_settings()
    {
        IExplanationMethod scoreCam = Method("scorecam", ("channels", "2"), ("masks", "binarized"), ("variant", "torch-cam"));
        var item = Item(Spec, ContentKey.Of(new byte[] { 9 }), "pictures/a.png", scoreCam);
        ExplanationItem back = ExplanationItem.FromBytes(item.ToBytes());
        back.ResultKey.Should().Be(item.ResultKey);
        back.PictureName.Should().Be("pictures/a.png");
        back.CreateMethod().Settings.Should().BeEquivalentTo(scoreCam.Settings);
        back.CreateMethod().Settings["masks"].Should().Be("binarized");
        FluentActions.Invoking(() => (item with { Method = "no-such-method" }).CreateMethod()).Should().Throw<Core.ScoreCamException>().WithMessage("*no-such-method*");
        FluentActions.Invoking(() => ExplanationItem.FromBytes("{\"method\":\"scorecam\"}"u8.ToArray())).Should().Throw<System.Text.Json.JsonException>();
    }

    [Test]
    public void The_result_key_follows_model_picture_method_and_every_setting_but_not_the_picture_s_name()
    {
        string picture = ContentKey.Of(new byte[] { 9 });
        IExplanationMethod rise = Method("rise", ("rise-masks", "123"));
        string key = Item(Spec, picture, "a.png", rise).ResultKey;
        Item(Spec, picture, "b.png", rise).ResultKey.Should().Be(key, "the name only labels messages");
        Item(Spec, picture, "a.png", Method("rise", ("rise-masks", "123"), ("channels", "2"))).ResultKey.Should().Be(key, "RISE has no channels option");
        var changed = new[]
        {
            Item(Spec with { ModelKey = ContentKey.Of(new byte[] { 1, 2, 4 }) }, picture, "a.png", rise),
            Item(Spec, ContentKey.Of(new byte[] { 8 }), "a.png", rise),
            Item(Spec, picture, "a.png", Method("gradcam")),
            Item(Spec, picture, "a.png", Method("rise", ("rise-masks", "124"))),
            Item(Spec, picture, "a.png", Method("rise", ("rise-masks", "123"), ("seed", "1"))),
            Item(Spec with { Style = Spec.Style with { Panel = true } }, picture, "a.png", rise),
            Item(Spec with { Target = null }, picture, "a.png", rise),
            Item(Spec with { Preprocess = Spec.Preprocess with { Std = new[] { 1f, 1f, 1f } } }, picture, "a.png", rise),
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

using System.Buffers.Binary;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Imaging;

public class ImagingTests
{
    [Test]
    public void Preprocessing_applies_scale_mean_and_std_per_channel()
    {
        using var image = new Image<Rgb24>(10, 6, new Rgb24(255, 128, 0));
        ImageTensor t = Preprocessor.ToTensor(image, new PreprocessOptions { Width = 4, Height = 4 });
        (t.Channels, t.Height, t.Width).Should().Be((3, 4, 4));
        t.Data[0].Should().BeApproximately((1f - 0.485f) / 0.229f, 1e-5f);
        t.Data[16].Should().BeApproximately((128f / 255f - 0.456f) / 0.224f, 1e-5f);
        t.Data[32].Should().BeApproximately((0f - 0.406f) / 0.225f, 1e-5f);

        ImageTensor bgr = Preprocessor.ToTensor(image, new PreprocessOptions { Width = 4, Height = 4, Bgr = true, Scale = 255, Mean = new[] { 0f, 0f, 0f }, Std = new[] { 1f, 1f, 1f } });
        bgr.Data[0].Should().Be(0f);
        bgr.Data[32].Should().Be(255f);
    }

    [Test]
    public void Crop_mode_keeps_the_centre_at_the_input_aspect_ratio()
    {
        using var image = new Image<Rgb24>(300, 100);
        ImageTensor t = Preprocessor.ToTensor(image, new PreprocessOptions { Width = 50, Height = 50, Resize = ResizeMode.Crop });
        t.SourceRegion.Should().Be(new SourceRegion(300, 100, 100, 0, 100, 100));
        Preprocessor.ToTensor(image, new PreprocessOptions { Width = 50, Height = 50 }).SourceRegion.Should().Be(new SourceRegion(300, 100, 0, 0, 300, 100));
    }

    [Test]
    public void One_channel_models_get_luma()
    {
        using var image = new Image<Rgb24>(2, 2, new Rgb24(255, 255, 255));
        ImageTensor t = Preprocessor.ToTensor(image, new PreprocessOptions { Width = 2, Height = 2, Mean = new[] { 0f, 0f, 0f }, Std = new[] { 1f, 1f, 1f } }, channels: 1);
        t.Data.Should().HaveCount(4).And.OnlyContain(v => Math.Abs(v - 1f) < 1e-5f);
    }

    [Test]
    public void An_oversized_image_is_refused_from_its_header_before_decoding()
    {
        using var folder = new TempFolder();
        string path = folder.File("huge.png");
        File.WriteAllBytes(path, PngHeaderOnly(30000, 30000));
        var act = () => ImageLoader.Load(path);
        act.Should().Throw<ScoreCamException>().WithMessage("*30000x30000*900 megapixels*over the limit of 50*");
    }

    [Test]
    public void Truncated_and_non_image_files_give_a_clear_error()
    {
        using var folder = new TempFolder();
        using (var image = new Image<Rgb24>(64, 64))
        {
            for (int y = 0; y < 64; y++) for (int x = 0; x < 64; x++) image[x, y] = new Rgb24((byte)(x * 4), (byte)(y * 4), (byte)(x ^ y));
            image.SaveAsPng(folder.File("full.png"));
        }
        byte[] full = File.ReadAllBytes(folder.File("full.png"));
        File.WriteAllBytes(folder.File("half.png"), full[..(full.Length / 2)]);
        File.WriteAllText(folder.File("text.png"), "hello");

        FluentActions.Invoking(() => ImageLoader.Load(folder.File("half.png"))).Should().Throw<ScoreCamException>().WithMessage("*half.png*");
        FluentActions.Invoking(() => ImageLoader.Load(folder.File("text.png"))).Should().Throw<ScoreCamException>().WithMessage("*not an image*");
        FluentActions.Invoking(() => ImageLoader.Load(folder.File("none.png"))).Should().Throw<ScoreCamException>().WithMessage("*does not exist*");
    }

    [Test]
    public void Npy_round_trip_and_errors()
    {
        using var folder = new TempFolder();
        float[] data = Enumerable.Range(0, 2 * 3 * 4).Select(i => i * 0.5f).ToArray();
        NpyFile.Write(folder.File("x.npy"), data, 1, 2, 3, 4);
        var (read, shape) = NpyFile.Read(folder.File("x.npy"));
        read.Should().Equal(data);
        shape.Should().Equal(1, 2, 3, 4);
        ImageTensor t = NpyFile.ReadImageTensor(folder.File("x.npy"));
        (t.Channels, t.Height, t.Width).Should().Be((2, 3, 4));

        File.WriteAllBytes(folder.File("cut.npy"), File.ReadAllBytes(folder.File("x.npy"))[..^8]);
        FluentActions.Invoking(() => NpyFile.Read(folder.File("cut.npy"))).Should().Throw<ScoreCamException>().WithMessage("*truncated*");
    }

    [Test]
    public void A_chunk_claiming_more_memory_than_the_pixel_limit_allows_is_refused_by_the_decoder_cap()
    {
        using var folder = new TempFolder();
        string path = folder.File("bomb.png");
        // A valid 10x10 header, then a 17 MB text chunk: more than any buffer a 100-pixel image needs.
        const int length = 17 << 20;
        var chunk = new byte[12 + length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, length);
        "zTXt"u8.CopyTo(chunk.AsSpan(4));
        File.WriteAllBytes(path, PngHeaderOnly(10, 10).Concat(chunk).ToArray());
        FluentActions.Invoking(() => ImageLoader.Load(path, maxPixels: 100)).Should().Throw<ScoreCamException>()
            .WithMessage("*bomb.png*more memory than its size allows*16 MB*");
    }

    [Test]
    public void Npy_headers_that_lie_are_refused_before_the_data_is_read()
    {
        using var folder = new TempFolder();
        string Npy(string name, string header, int major = 1, int dataBytes = 16)
        {
            byte[] text = System.Text.Encoding.Latin1.GetBytes(header + "\n");
            int prefix = major == 1 ? 10 : 12;
            var bytes = new byte[prefix + text.Length + dataBytes];
            new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 }.CopyTo(bytes, 0);
            if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
            else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)text.Length);
            text.CopyTo(bytes, prefix);
            File.WriteAllBytes(folder.File(name), bytes);
            return folder.File(name);
        }
        Action Read(string path) => () => NpyFile.Read(path);

        Read(Npy("huge.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 1000, 1000), }")).Should().Throw<ScoreCamException>()
            .WithMessage("*should hold 3000000 float32 values*holds 4*");
        Read(Npy("overflow.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }")).Should().Throw<ScoreCamException>()
            .WithMessage("*too many values*");
        Read(Npy("negative.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }")).Should().Throw<ScoreCamException>().WithMessage("*invalid shape*");
        Read(Npy("double.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }")).Should().Throw<ScoreCamException>().WithMessage("*holds <f8 values*float32*");
        Read(Npy("bigendian.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }")).Should().Throw<ScoreCamException>().WithMessage("*holds >f4 values*little-endian*");
        Read(Npy("bytes.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (16,), }")).Should().Throw<ScoreCamException>().WithMessage("*holds |u1 values*");
        Read(Npy("noshape.npy", "{'descr': '<f4', 'fortran_order': False, }")).Should().Throw<ScoreCamException>().WithMessage("*no 'shape'*");
        Read(Npy("v9.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", major: 9)).Should().Throw<ScoreCamException>().WithMessage("*version 9*");

        string claimsHugeHeader = Npy("header.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", major: 2);
        byte[] b = File.ReadAllBytes(claimsHugeHeader);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), uint.MaxValue);
        File.WriteAllBytes(claimsHugeHeader, b);
        Read(claimsHugeHeader).Should().Throw<ScoreCamException>().WithMessage("*corrupt .npy header*4294967295*");

        string tensor = Npy("image.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2, 2), }");
        FluentActions.Invoking(() => NpyFile.ReadImageTensor(tensor, maxPixels: 3)).Should().Throw<ScoreCamException>().WithMessage("*2x2*over the limit*");
        byte[] nan = File.ReadAllBytes(tensor);
        BitConverter.GetBytes(float.NaN).CopyTo(nan, nan.Length - 8);
        File.WriteAllBytes(tensor, nan);
        FluentActions.Invoking(() => NpyFile.ReadImageTensor(tensor)).Should().Throw<ScoreCamException>().WithMessage("*NaN at index 2*finite*");
    }

    [Test]
    public void A_labels_file_must_name_every_class_exactly_once()
    {
        using var folder = new TempFolder();
        File.WriteAllLines(folder.File("labels.txt"), new[] { "cat", "dog", "" });
        LabelsFile.Read(folder.File("labels.txt"), 2).Should().Equal("cat", "dog");
        FluentActions.Invoking(() => LabelsFile.Read(folder.File("labels.txt"), 10)).Should().Throw<ScoreCamException>()
            .WithMessage("Labels file '*labels.txt' has 2 labels but the model has 10 classes; give one label per class*");
        FluentActions.Invoking(() => LabelsFile.CheckCount(new[] { "a", "b", "c" }, 2)).Should().Throw<ScoreCamException>()
            .WithMessage("The labels has 3 labels but the model has 2 classes*");
    }

    [Test]
    public void Overlay_keeps_the_original_size_and_colours_hot_regions_red_in_jet()
    {
        using var original = new Image<Rgb24>(40, 20, new Rgb24(128, 128, 128));
        var heat = new SaliencyMap(2, 1, new[] { 0f, 1f });
        using Image<Rgb24> overlay = HeatmapRenderer.Overlay(original, heat, alpha: 1f);
        (overlay.Width, overlay.Height).Should().Be((40, 20));
        overlay[39, 10].R.Should().BeGreaterThan(120);
        overlay[39, 10].B.Should().Be(0);
        overlay[0, 10].B.Should().BeGreaterThan(120);
        overlay[0, 10].R.Should().Be(0);
    }

    /// <summary>A PNG signature and IHDR chunk claiming the given size, with no pixel data.</summary>
    private static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
        var chunk = new byte[4 + 4 + 13 + 4];
        BinaryPrimitives.WriteInt32BigEndian(chunk, 13);
        "IHDR"u8.CopyTo(chunk.AsSpan(4));
        ihdr.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(21), Crc32.Of(chunk.AsSpan(4, 17)));
        return new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }.Concat(chunk).ToArray();
    }
}

using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using static ScoreCam.Onnx.Tests.Imaging.OrientedPictures;

namespace ScoreCam.Onnx.Tests.Imaging;

/// <summary>Pictures stored as cameras store them are loaded and explained as viewers show them.</summary>
public class ExifOrientationTests
{
    private TempFolder _folder = null!;

    [SetUp]
    public void SetUp() => _folder = new TempFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private static string DefaultModel => Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx");

    /// <summary>A wide cut of the sample, so that a swapped width and height cannot pass for the right answer.</summary>
    private static Image<Rgb24> WideSample()
    {
        using Image<Rgb24> sample = Sample();
        return sample.Clone(x => x.Crop(new Rectangle(0, 20, 96, 60)));
    }

    [Test]
    public void Each_orientation_stored_with_its_tag_loads_as_the_upright_picture_and_the_stored_pixels_on_request([Values(".png", ".webp", ".tiff")] string format)
    {
        using Image<Rgb24> upright = WideSample();
        for (ushort v = 1; v <= 8; v++)
        {
            using Image<Rgb24> stored = Stored(upright, v);
            if (v > 1) Pixels(stored).Should().NotEqual(Pixels(upright), "the stored pixels of orientation {0} are not the upright ones", v);
            string path = Save(stored, v, _folder.File($"o{v}{format}"));
            if (format == ".png") File.ReadAllBytes(path).AsSpan().IndexOf("eXIf"u8).Should().BePositive("the tag is in a PNG eXIf chunk");

            using (LoadedImage loaded = ImageLoader.Load(path))
            {
                (loaded.Orientation, loaded.StoredOrientation, loaded.Warning).Should().Be(((ExifOrientation)v, v, (string?)null));
                Pixels(loaded.Image).Should().Equal(Pixels(upright), "orientation {0} in {1}", v, format);
                (loaded.Image.Metadata.ExifProfile?.GetValue(ExifTag.Orientation)).Should().BeNull("the upright pixels carry no tag that would turn copies of them again");
            }
            using (LoadedImage kept = ImageLoader.Load(path, keepStoredOrientation: true))
            {
                (kept.Orientation, kept.StoredOrientation, kept.Warning).Should().Be((ExifOrientation.TopLeft, v, (string?)null));
                Pixels(kept.Image).Should().Equal(Pixels(stored));
            }
        }
    }

    [Test]
    public void A_quality_100_jpeg_stored_with_each_orientation_loads_as_the_upright_jpeg_exactly_when_its_blocks_align()
    {
        using Image<Rgb24> sample = Sample(), wide = WideSample();
        // 96x96: every 8x8 block is a block of the upright picture, turned, so the same coefficients are decoded.
        LargestJpegDifferences(sample).Should().AllBeEquivalentTo(0);
        // 96x60: the blocks of the stored picture straddle other pixels; only rounding tells them apart.
        LargestJpegDifferences(wide).Should().OnlyContain(d => d <= 4).And.Contain(d => d > 0);
    }

    /// <summary>Per orientation, the largest channel difference between the tagged JPEG as loaded and the upright picture's JPEG (both quality 100, 4:4:4).</summary>
    private List<int> LargestJpegDifferences(Image<Rgb24> upright)
    {
        string name = $"{upright.Width}x{upright.Height}";
        using Image<Rgb24> expected = Image.Load<Rgb24>(Save(upright, null, _folder.File($"{name}.jpg")));
        var largest = new List<int>();
        for (ushort v = 1; v <= 8; v++)
        {
            using Image<Rgb24> stored = Stored(upright, v);
            using LoadedImage loaded = ImageLoader.Load(Save(stored, v, _folder.File($"{name}-o{v}.jpg")));
            loaded.Orientation.Should().Be((ExifOrientation)v);
            (loaded.Image.Width, loaded.Image.Height).Should().Be((upright.Width, upright.Height));
            largest.Add(Pixels(loaded.Image).Zip(Pixels(expected), (p, q) => Math.Abs(p - q)).Max());
        }
        return largest;
    }

    [Test]
    public void The_default_model_explains_each_orientation_as_it_explains_the_upright_sample()
    {
        using CamExplainer explainer = CamExplainer.Open(DefaultModel, new ExplainerOptions { Method = new ScoreCamMethod(new ScoreCamOptions { MaxChannels = 16 }) });
        Explanation upright = explainer.Explain(SamplePath);
        upright.Prediction.Label.Should().Be("Ankle boot");
        using Image<Rgb24> sample = Sample();
        foreach (string path in WriteAllEight(sample, _folder.Path))
        {
            using (Image<Rgb24> picture = explainer.LoadImage(path, out ExifOrientation orientation))
                orientation.Should().Be((ExifOrientation)int.Parse(Path.GetFileNameWithoutExtension(path)[1..]));
            Explanation e = explainer.Explain(path);
            e.Prediction.Should().Be(upright.Prediction, path);
            e.Map.Values.Should().Equal(upright.Map.Values, path);
            e.Heatmap.Values.Should().Equal(upright.Heatmap.Values);
        }

        // As a phone stores it: turned (orientation 6) in a JPEG, explained as the upright picture's JPEG.
        using Image<Rgb24> turned = Stored(sample, 6);
        Explanation phone = explainer.Explain(Save(turned, 6, _folder.File("phone.jpg")));
        Explanation expected = explainer.Explain(Save(sample, null, _folder.File("upright.jpg")));
        phone.Prediction.Should().Be(expected.Prediction);
        phone.Prediction.Label.Should().Be("Ankle boot");
        phone.Map.Values.Should().Equal(expected.Map.Values);
    }

    [Test]
    public void The_stored_pixels_are_explained_when_the_explainer_is_asked_to_keep_them()
    {
        using CamExplainer explainer = CamExplainer.Open(DefaultModel, new ExplainerOptions { KeepStoredOrientation = true, Method = new GradCamMethod() });
        using Image<Rgb24> sample = Sample();
        using Image<Rgb24> turned = Stored(sample, 6);
        string tagged = Save(turned, 6, _folder.File("tagged.png")), untagged = Save(turned, null, _folder.File("untagged.png"));
        using (Image<Rgb24> picture = explainer.LoadImage(tagged, out ExifOrientation orientation))
        {
            orientation.Should().Be(ExifOrientation.TopLeft);
            Pixels(picture).Should().Equal(Pixels(turned));
        }
        explainer.Explain(tagged).Map.Values.Should().Equal(explainer.Explain(untagged).Map.Values);
    }

    [TestCase((ushort)0)]
    [TestCase((ushort)9)]
    [TestCase((ushort)65535)]
    public void An_orientation_value_out_of_range_is_explained_as_stored_with_a_warning(ushort value)
    {
        var log = new RecordingLogger();
        using CamExplainer explainer = CamExplainer.Open(DefaultModel, new ExplainerOptions { Logger = log, Method = new GradCamMethod() });
        using Image<Rgb24> sample = Sample();
        using Image<Rgb24> turned = Stored(sample, 6);
        string tagged = Save(turned, value, _folder.File("tagged.png")), untagged = Save(turned, null, _folder.File("untagged.png"));

        using (LoadedImage loaded = ImageLoader.Load(tagged))
        {
            (loaded.Orientation, loaded.StoredOrientation).Should().Be((ExifOrientation.TopLeft, value));
            loaded.Warning.Should().Contain("tagged.png").And.Contain($"orientation {value}").And.Contain("1-8").And.Contain("as its pixels are stored");
            Pixels(loaded.Image).Should().Equal(Pixels(turned));
        }
        using (LoadedImage kept = ImageLoader.Load(tagged, keepStoredOrientation: true))
            kept.Warning.Should().BeNull("the stored pixels were asked for");

        explainer.Explain(tagged).Map.Values.Should().Equal(explainer.Explain(untagged).Map.Values);
        log.Entries.Where(e => e.Level == LogLevel.Warning).Should().ContainSingle().Which.Message.Should().Contain($"orientation {value}");
    }

    [TestCase(".png")]
    [TestCase(".webp")]
    [TestCase(".tiff")]
    [TestCase(".jpg")]
    public void An_orientation_entry_of_the_wrong_type_is_explained_as_stored_with_a_warning(string format)
    {
        using Image<Rgb24> wide = WideSample();
        using Image<Rgb24> turned = Stored(wide, 6);
        string path = Save(turned, 6, _folder.File($"long{format}"));
        File.WriteAllBytes(path, WithOrientationOfTypeLong(File.ReadAllBytes(path)));

        using LoadedImage loaded = ImageLoader.Load(path);
        (loaded.Orientation, loaded.StoredOrientation).Should().Be((ExifOrientation.TopLeft, (ushort?)null));
        loaded.Warning.Should().Be($"Image '{path}': its EXIF orientation entry holds 1 value of type LONG, not the one 16-bit value EXIF defines; it is explained as its pixels are stored.");
        using LoadedImage stored = ImageLoader.Load(path, keepStoredOrientation: true);
        stored.Warning.Should().BeNull("the stored pixels were asked for");
        Pixels(loaded.Image).Should().Equal(Pixels(stored.Image));
        if (format != ".jpg") Pixels(loaded.Image).Should().Equal(Pixels(turned));
    }

    /// <summary>
    /// The file with its Orientation entry (tag 274, one SHORT) retyped as one LONG, in either byte order; a PNG's
    /// eXIf chunk gets its checksum again.
    /// </summary>
    private static byte[] WithOrientationOfTypeLong(byte[] file)
    {
        byte[] copy = file.ToArray();
        int little = copy.AsSpan().IndexOf(new byte[] { 0x12, 0x01, 3, 0, 1, 0, 0, 0 }), big = copy.AsSpan().IndexOf(new byte[] { 0x01, 0x12, 0, 3, 0, 0, 0, 1 });
        (little >= 0 ^ big >= 0).Should().BeTrue("the file holds one Orientation entry");
        if (little >= 0) copy[little + 2] = 4; else copy[big + 3] = 4;
        int chunk = copy.AsSpan().IndexOf("eXIf"u8);
        if (copy[..8].AsSpan().SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }))
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(copy.AsSpan(chunk - 4));
            BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(chunk + 4 + length), Crc32.Of(copy.AsSpan(chunk, 4 + length)));
        }
        return copy;
    }

    [Test]
    public void Malformed_exif_data_loads_as_stored_with_a_warning_that_says_what_is_wrong()
    {
        using Image<Rgb24> wide = WideSample();
        using Image<Rgb24> turned = Stored(wide, 6);
        byte[] jpeg = File.ReadAllBytes(Save(turned, null, _folder.File("plain.jpg")));
        using Image<Rgb24> expected = Image.Load<Rgb24>(jpeg);
        // TIFF-structured EXIF blocks (big-endian) in a JPEG's APP1 segment, and what the warning says of each.
        var blocks = new (string Name, byte[] Block, string? Warning)[]
        {
            ("ascii", Ifd(0x0112, type: 2, count: 2, (byte)'6', 0), "its EXIF orientation entry holds 2 values of type ASCII, not the one 16-bit value EXIF defines"),
            ("two values", Ifd(0x0112, type: 3, count: 2, 0, 6, 0, 6), "its EXIF orientation entry holds 2 values of type SHORT, not the one 16-bit value EXIF defines"),
            ("truncated", Ifd(0x0112, type: 3, count: 1, 0, 6)[..12], "its EXIF data cannot be read (its first directory is cut short)"),
            ("offset past the end", "MM\0*\x7f\0\0\x08"u8.ToArray(), "its EXIF data cannot be read (its first directory lies outside the block)"),
            ("noise", Enumerable.Range(0, 40).Select(i => (byte)(i * 37 + 11)).ToArray(), "its EXIF data cannot be read (no byte-order mark)"),
            ("no orientation", Ifd(0x010F, type: 2, count: 4, (byte)'A', (byte)'B', (byte)'C', 0), null), // Make = "ABC": nothing to warn of
        };
        foreach (var (name, block, warning) in blocks)
        {
            string path = _folder.File($"{name}.jpg");
            File.WriteAllBytes(path, WithExifSegment(jpeg, block));
            using LoadedImage loaded = ImageLoader.Load(path);
            loaded.Orientation.Should().Be(ExifOrientation.TopLeft, name);
            loaded.Warning.Should().Be(warning is null ? null : $"Image '{path}': {warning}; it is explained as its pixels are stored.", name);
            Pixels(loaded.Image).Should().Equal(Pixels(expected), name);
        }
    }

    /// <summary>A big-endian TIFF header and a directory of one entry with the given tag, type, count and value bytes.</summary>
    private static byte[] Ifd(ushort tag, ushort type, uint count, params byte[] value)
    {
        var block = new List<byte> { (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, (byte)(tag >> 8), (byte)tag, (byte)(type >> 8), (byte)type };
        block.AddRange(new[] { (byte)(count >> 24), (byte)(count >> 16), (byte)(count >> 8), (byte)count });
        block.AddRange(value.Concat(new byte[4]).Take(4));
        block.AddRange(new byte[4]);
        return block.ToArray();
    }

    /// <summary>The JPEG with an APP1 "Exif" segment holding <paramref name="block"/> right after its start marker.</summary>
    private static byte[] WithExifSegment(byte[] jpeg, byte[] block)
    {
        int length = 2 + 6 + block.Length;
        byte[] segment = new byte[] { 0xFF, 0xE1, (byte)(length >> 8), (byte)length }.Concat("Exif\0\0"u8.ToArray()).Concat(block).ToArray();
        return jpeg[..2].Concat(segment).Concat(jpeg[2..]).ToArray();
    }
}

using Google.Protobuf;
using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>Reads ONNX model files into protobuf messages, turning every failure into a message a user can act on.</summary>
internal static class OnnxModelReader
{
    public static ModelProto Read(string path)
    {
        if (!File.Exists(path))
            throw new ScoreCamException($"Model file '{path}' does not exist. Pass the path of an .onnx file.");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScoreCamException($"Model file '{path}' cannot be read: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    public static ModelProto Parse(byte[] bytes, string source)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw NotOnnx(source, e);
        }
        // Arbitrary bytes sometimes parse as a protobuf message; a real model has an IR version, a graph and nodes.
        if (model.IrVersion <= 0 || model.Graph is null || model.Graph.Node.Count == 0 || model.Graph.Output.Count == 0)
            throw NotOnnx(source, null);
        return model;
    }

    private static ScoreCamException NotOnnx(string source, Exception? inner)
    {
        const string hint = "Export the classifier to ONNX first (e.g. torch.onnx.export) and pass that file.";
        string message = $"'{source}' is not an ONNX model (it does not parse as an ONNX ModelProto with a graph). {hint}";
        return inner is null ? new ScoreCamException(message) : new ScoreCamException(message, inner);
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScoreCam.Onnx.Tests.Output;

/// <summary>
/// A small JSON Schema check, written apart from System.Text.Json's serializer: every field of an instance is declared
/// in the schema (with its type), and every required field is there. Enough for the schemas the library exports
/// (objects, arrays, strings, numbers, integers, booleans, nulls; $ref to $defs is not used by them).
/// </summary>
internal static class JsonSchemaCheck
{
    public static List<string> Problems(JsonNode schema, JsonElement instance)
    {
        var problems = new List<string>();
        Check(schema, instance, "$", problems);
        return problems;
    }

    private static void Check(JsonNode schema, JsonElement value, string path, List<string> problems)
    {
        string[] types = schema["type"] switch
        {
            JsonArray a => a.Select(t => (string)t!).ToArray(),
            JsonValue v => new[] { (string)v! },
            _ => Array.Empty<string>(),
        };
        if (types.Length > 0 && !types.Any(t => Is(t, value)))
        {
            problems.Add($"{path}: {value.ValueKind} where the schema allows {string.Join("|", types)}");
            return;
        }
        if (value.ValueKind == JsonValueKind.Object)
        {
            JsonObject? properties = schema["properties"]?.AsObject();
            foreach (JsonProperty p in value.EnumerateObject())
            {
                JsonNode? declared = properties?[p.Name];
                if (declared is not null) Check(declared, p.Value, $"{path}.{p.Name}", problems);
                else if (schema["additionalProperties"] is JsonNode extra && extra.GetValueKind() == JsonValueKind.Object) Check(extra, p.Value, $"{path}.{p.Name}", problems);
                else if (properties is not null) problems.Add($"{path}.{p.Name}: not in the schema");
            }
            foreach (JsonNode? required in schema["required"]?.AsArray() ?? new JsonArray())
                if (!value.TryGetProperty((string)required!, out _)) problems.Add($"{path}: required field '{(string)required!}' missing");
        }
        else if (value.ValueKind == JsonValueKind.Array && schema["items"] is JsonNode items)
        {
            int i = 0;
            foreach (JsonElement item in value.EnumerateArray()) Check(items, item, $"{path}[{i++}]", problems);
        }
    }

    private static bool Is(string type, JsonElement value) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => false,
    };
}

using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ScoreCam.Onnx.Tests.Docs;

/// <summary>
/// Compiles a documentation snippet as a console application's top-level statements, the way a reader pastes it
/// into `dotnet new console` (whose implicit global usings it gets) after adding the ScoreCam.Onnx package: against
/// the .NET runtime and the library with its dependencies, nothing else (not the command line, not the tests).
/// </summary>
internal static class SnippetCompiler
{
    // What `dotnet new console` (ImplicitUsings enabled) declares.
    private const string ImplicitUsings =
        "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
        "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(LoadReferences);

    /// <summary>The compiler's errors for <paramref name="code"/> (empty when it compiles), each with its line in the snippet.</summary>
    public static IReadOnlyList<string> Errors(string code)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("Snippet",
            [CSharpSyntaxTree.ParseText(ImplicitUsings, parse), CSharpSyntaxTree.ParseText(code, parse, path: "snippet.cs")],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var assembly = new MemoryStream();
        return compilation.Emit(assembly).Diagnostics
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => $"line {d.Location.GetLineSpan().StartLinePosition.Line + 1}: {d.Id} {d.GetMessage()}")
            .ToArray();
    }

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        // The shared framework (Microsoft.NETCore.App), then ScoreCam.Onnx and every assembly it references outside it.
        string framework = RuntimeEnvironment.GetRuntimeDirectory();
        var paths = Directory.GetFiles(framework, "*.dll").Where(IsManagedAssembly).ToList();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<Assembly>([typeof(CamExplainer).Assembly]);
        while (pending.Count > 0)
        {
            Assembly assembly = pending.Pop();
            if (!seen.Add(assembly.GetName().Name!)) continue;
            if (!assembly.Location.StartsWith(framework, StringComparison.OrdinalIgnoreCase)) paths.Add(assembly.Location);
            foreach (AssemblyName name in assembly.GetReferencedAssemblies())
                if (!seen.Contains(name.Name!)) pending.Push(Assembly.Load(name));
        }
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}

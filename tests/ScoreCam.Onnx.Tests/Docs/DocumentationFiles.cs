using System.Text;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Docs;

/// <summary>A fenced code block or a command of a Markdown file, with where it starts (1-based line).</summary>
internal sealed record DocumentationBlock(string File, int Line, string Text)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>The repository's Markdown documents and what the tests read out of them.</summary>
internal static class DocumentationFiles
{
    /// <summary>The front page, docs/ and the packages' READMEs (relative paths, '/'-separated).</summary>
    public static IReadOnlyList<string> All()
    {
        var files = new List<string> { "README.md" };
        files.AddRange(Directory.GetFiles(Repository.Path("docs"), "*.md").Select(f => "docs/" + Path.GetFileName(f)));
        files.AddRange(Directory.GetDirectories(Repository.Path("src"))
            .Select(d => Path.Combine(d, "README.md")).Where(File.Exists)
            .Select(f => Path.GetRelativePath(Repository.Root, f).Replace('\\', '/')));
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>The bodies of the ```LANGUAGE fenced blocks of <paramref name="file"/> (fences may be indented, as in a list).</summary>
    public static IReadOnlyList<DocumentationBlock> FencedBlocks(string file, string language)
    {
        string[] lines = File.ReadAllLines(Repository.Path(file.Split('/')));
        var blocks = new List<DocumentationBlock>();
        for (int i = 0; i < lines.Length; i++)
        {
            string fence = lines[i].TrimStart();
            if (fence != "```" + language) continue;
            int indent = lines[i].Length - fence.Length, start = i + 1;
            var body = new StringBuilder();
            for (i++; i < lines.Length && lines[i].Trim() != "```"; i++)
                body.AppendLine(lines[i].Length >= indent ? lines[i][indent..] : lines[i].TrimStart());
            if (i == lines.Length) throw new InvalidDataException($"{file}:{start}: the ```{language} block is never closed.");
            blocks.Add(new DocumentationBlock(file, start, body.ToString()));
        }
        return blocks;
    }

    /// <summary>
    /// The commands of <paramref name="file"/> that start with <paramref name="prefix"/> (in indented code or a fenced
    /// block), continuation lines ending in '\' joined, up to a pipe, a redirection or a '&amp;'.
    /// </summary>
    public static IReadOnlyList<DocumentationBlock> Commands(string file, string prefix)
    {
        string[] lines = File.ReadAllLines(Repository.Path(file.Split('/')));
        var commands = new List<DocumentationBlock>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (!line.StartsWith(prefix, StringComparison.Ordinal)) continue;
            int start = i + 1;
            var command = new StringBuilder();
            while (line.EndsWith('\\') && i + 1 < lines.Length)
            {
                command.Append(line[..^1]).Append(' ');
                line = lines[++i].Trim();
            }
            command.Append(line);
            commands.Add(new DocumentationBlock(file, start, command.ToString()));
        }
        return commands;
    }

    /// <summary>Splits a shell command line into words: blanks separate, single and double quotes group; stops at | &gt; &lt; &amp; ;.</summary>
    public static IReadOnlyList<string> ShellWords(string command)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (char c in command)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else word.Append(c);
                continue;
            }
            if (c is '\'' or '"') { quote = c; inWord = true; continue; }
            if (c is '|' or '>' or '<' or '&' or ';') break;
            if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
                continue;
            }
            word.Append(c);
            inWord = true;
        }
        if (quote != '\0') throw new InvalidDataException($"Unclosed quote in: {command}");
        if (inWord) words.Add(word.ToString());
        return words;
    }
}

using System.Net;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Cli.Serve;

/// <summary>The page at <c>GET /</c>: pick a picture, a method, a target and the colours, see the overlay (or the panel) and the prediction. Self-contained (no network).</summary>
internal static class UploadPage
{
    /// <summary>Inline style and script only; the overlay arrives as a data: URI.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'";

    public static string Html(string modelName) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>scorecam serve</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
          form { display: flex; gap: 0.75rem; align-items: center; flex-wrap: wrap; }
          #overlay { display: block; margin-top: 1rem; min-height: 256px; height: 384px; image-rendering: pixelated; }
          #error { color: #b00; }
        </style>
        </head>
        <body>
        <h1>Explain a prediction</h1>
        <p>Model <code>{{WebUtility.HtmlEncode(Path.GetFileName(modelName))}}</code>. The picture is sent to <code>POST /explain</code>.</p>
        <form id="form">
          <input type="file" id="file" accept="image/*" required>
          <label>Method <select id="method">{{string.Concat(MethodCatalog.Names.Select(n => $"<option>{WebUtility.HtmlEncode(n)}</option>"))}}</select></label>
          <label>Target <input id="target" placeholder="top prediction" size="14"></label>
          <label>Colours <select id="colormap"><option>jet</option><option>viridis</option></select></label>
          <label><input type="checkbox" id="panel" checked> input | overlay | heatmap</label>
          <button type="submit" id="submit">Explain</button>
        </form>
        <p id="error" role="alert"></p>
        <p id="result"></p>
        <img id="overlay" alt="overlay" hidden>
        <script>
        document.getElementById('form').addEventListener('submit', async event => {
          event.preventDefault();
          const file = document.getElementById('file').files[0];
          const query = new URLSearchParams({ method: document.getElementById('method').value, colormap: document.getElementById('colormap').value });
          query.set('picture', document.getElementById('panel').checked ? 'panel' : 'overlay');
          const target = document.getElementById('target').value.trim();
          if (target) query.set('target', target);
          document.getElementById('error').textContent = '';
          document.getElementById('result').textContent = 'explaining...';
          try {
            const response = await fetch('/explain?' + query, { method: 'POST', body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' } });
            const body = await response.json();
            if (!response.ok) throw new Error(body.error || response.statusText);
            const p = body.prediction, t = body.target;
            document.getElementById('result').textContent =
              `${body.method}: prediction ${p.label ?? 'class ' + p.index} (p=${p.probability.toFixed(4)}), target ${t.label} (${body.forwardPasses} passes, ${body.elapsedMs} ms)`;
            const overlay = document.getElementById('overlay');
            overlay.src = 'data:image/png;base64,' + body.overlayPng;
            overlay.hidden = false;
          } catch (e) {
            document.getElementById('result').textContent = '';
            document.getElementById('error').textContent = e.message;
          }
        });
        </script>
        </body>
        </html>
        """;
}
